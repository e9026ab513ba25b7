using System.CommandLine;
using System.Globalization;
using System.Text;
using RestoreCluster.Restore;

namespace RestoreCluster.Cli;

/// <summary>
/// <c>restorecluster forget -d TARGET [--dry-run]</c>: says what the leftover journal of an interrupted restore
/// was (its archive, when it started, the units it committed) and drops it, so a new restore can start
/// without <c>--resume</c>. What the restore committed stays in the database.
/// </summary>
internal sealed class ForgetCommand
{
    private readonly ConnectionOptionsSpec _connection = new("the database whose journal to forget (name, key=value string or URI)");
    private readonly Option<bool> _dryRun = new("--dry-run") { Description = "say what would be forgotten, and drop nothing" };

    public ForgetCommand()
    {
        Command = new Command("forget", $"drop the journal an interrupted restore left in -d TARGET (schema {RestoreJournal.Schema}), after saying what it was");
        foreach (var option in _connection.All)
        {
            Command.Options.Add(option);
        }

        Command.Options.Add(_dryRun);
    }

    public Command Command { get; }

    public int Run(ParseResult p, CliOutput io)
    {
        string db = p.GetValue(_connection.DbName) ?? throw new CliError("option -d/--dbname must be specified", ExitCodes.Usage);
        var (target, prompt) = _connection.Resolve(p, db);
        using var conn = RestoreJournal.ConnectForJournal(target, prompt, io.Warn);
        // One transaction: what is described is what is dropped (a --resume cannot take it over in between, nor
        // a session of the restore join it: the job lock is this transaction's once it was found free).
        using var transaction = conn.BeginTransaction();
        var journal = RestoreJournal.DescribeLeftover(conn, target)
            ?? throw new CliError($"nothing to forget in {target}: it holds no restorecluster journal (schema {RestoreJournal.Schema})");
        if (journal.Running is { } running)
        {
            // Its sessions hold the job lock: the restore works on the journal now, it is not interrupted.
            throw new CliError($"{running.Describe(target.ToString())}; stop it before forgetting its journal");
        }

        using var stdout = new StreamWriter(io.OpenStdout(), new UTF8Encoding(false));
        stdout.WriteLine(Describe(journal, target));
        stdout.Flush();
        if (journal.RestoreSessions > 0)
        {
            // Dropping the journal under a running restore would break its units' exactly-once bookkeeping.
            throw new CliError(
                $"{target} has {journal.RestoreSessions} other restorecluster session(s): a restore may still be running there; stop it before forgetting its journal");
        }

        if (p.GetValue(_dryRun))
        {
            stdout.WriteLine($"dry run: schema {RestoreJournal.Schema} kept");
            return ExitCodes.Success;
        }

        RestoreJournal.Forget(conn, target);
        transaction.Commit();
        stdout.WriteLine($"dropped schema {RestoreJournal.Schema}");
        return ExitCodes.Success;
    }

    /// <summary>One line: the target, the archive, when it started (when recorded) and the units done.</summary>
    public static string Describe(LeftoverJournal journal, ConnectionTarget target)
    {
        var line = new StringBuilder();
        line.Append(CultureInfo.InvariantCulture, $"{RestoreJournal.Schema} in {target}: an interrupted restore of ");
        line.Append(journal.ArchivePath ?? "an unknown archive (the journal has no job row)");
        if (journal.StartedAt is { } started)
        {
            line.Append(CultureInfo.InvariantCulture, $", started {started.ToLocalTime():yyyy-MM-dd HH:mm:ss zzz}");
        }

        line.Append(CultureInfo.InvariantCulture, $", {journal.UnitsDone} unit{(journal.UnitsDone == 1 ? "" : "s")} done");
        return line.ToString();
    }
}
