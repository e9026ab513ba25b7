using System.CommandLine;
using System.CommandLine.Parsing;

namespace RestoreCluster.Cli.Fleet;

/// <summary>
/// <c>submit</c>'s fleet options: <c>--manifest FILE</c> (every restore of the file as one fleet) and <c>--dry-run</c>.
/// A fleet's restores take their options from the manifest, so the command line gives none but the cluster's own.
/// </summary>
internal sealed class FleetOptions
{
    public Option<string?> Manifest { get; } = new("--manifest") { HelpName = "FILE", Description = "submit every restore of a fleet manifest (YAML, docs/fleet.md) as one fleet" };

    public Option<bool> DryRun { get; } = new("--dry-run") { Description = "with --manifest: print the plan per host and check each target; submit nothing" };

    public void AddTo(Command command)
    {
        command.Options.Add(Manifest);
        command.Options.Add(DryRun);
    }

    /// <summary>The manifest's path when --manifest is given (null: a one-job submit); a usage error for options that do not go with it.</summary>
    public string? Given(ParseResult p, RestoreOptionsSpec s)
    {
        string? manifest = p.GetValue(Manifest);
        if (manifest is null)
        {
            return p.GetValue(DryRun) ? throw new CliError("--dry-run needs --manifest", ExitCodes.Usage) : null;
        }

        Option[] own = [Manifest, DryRun, s.Cluster, s.TlsCert, s.TlsKey, s.TlsCa];
        var other = p.CommandResult.Children.OfType<OptionResult>().FirstOrDefault(o => !o.Implicit && !own.Contains(o.Option));
        if (other is not null)
        {
            throw new CliError($"--manifest takes each restore's options from the manifest: not with {other.Option.Name}", ExitCodes.Usage);
        }

        if (p.GetValue(s.Archive) is { } archive)
        {
            throw new CliError($"--manifest takes the archives from the manifest: not with \"{archive}\"", ExitCodes.Usage);
        }

        return manifest;
    }
}
