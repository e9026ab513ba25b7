using System.CommandLine;
using RestoreCluster.Restore;

namespace RestoreCluster.Cli;

/// <summary>
/// pg_restore's connection options (<c>-d</c>, <c>-h</c>, <c>-p</c>, <c>-U</c>, <c>-w</c>, <c>-W</c>), shared by
/// every command that connects to a target (<c>restore</c>, <c>forget</c>), and how they resolve: as libpq
/// resolves them, then the environment (<see cref="ConnectionTarget.Resolve"/>).
/// </summary>
internal sealed class ConnectionOptionsSpec(string dbNameDescription)
{
    public Option<string?> DbName { get; } = new("--dbname", "-d") { HelpName = "NAME", Description = dbNameDescription };

    public Option<string?> Host { get; } = new("--host", "-h") { HelpName = "HOSTNAME", Description = "database server host or socket directory" };

    public Option<string?> Port { get; } = new("--port", "-p") { HelpName = "PORT", Description = "database server port number" };

    public Option<string?> UserName { get; } = new("--username", "-U") { HelpName = "NAME", Description = "connect as specified database user" };

    public Option<bool> NoPassword { get; } = new("--no-password", "-w") { Description = "never prompt for password" };

    public Option<bool> Password { get; } = new("--password", "-W") { Description = "force password prompt" };

    /// <summary>The options in the order <c>--help</c> lists them.</summary>
    public IReadOnlyList<Option> All => [DbName, Host, Port, UserName, NoPassword, Password];

    /// <summary>
    /// The target <paramref name="db"/> (the <c>-d</c> value) names with <c>-h/-p/-U</c> and the libpq environment,
    /// and the password prompt to use when the server asks for one (none with <c>-w</c>). <c>-W</c> asks first.
    /// </summary>
    public (ConnectionTarget Target, Func<string?>? Prompt) Resolve(ParseResult p, string db)
    {
        ConnectionTarget target;
        try
        {
            target = ConnectionTarget.Resolve(db, p.GetValue(Host), p.GetValue(Port), p.GetValue(UserName));
        }
        catch (ArgumentException e)
        {
            throw new CliError($"invalid connection target: {e.Message}");
        }

        // -W asks before connecting; by default the prompt comes only when the server wants a password.
        Func<string?>? prompt = p.GetValue(NoPassword) ? null : PasswordPrompt.Ask;
        if (p.GetValue(Password) && target.Password is null && PasswordPrompt.Ask() is { } typed)
        {
            target = target.WithPassword(typed);
        }

        return (target, prompt);
    }
}
