using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using RestoreCluster.Archive;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Hosting;
using RestoreCluster.Planning;
using RestoreCluster.Restore;

namespace RestoreCluster.Cli.Tune;

/// <summary>
/// <c>restorecluster tune ARCHIVE -d TARGET [--jobs 1,2,4,8] [--sample SIZE] [--json] [--plot FILE]</c>: restores the
/// archive into a scratch database on the target's server at each <c>-j</c>, one after another, measuring each run
/// (wall time and phases, the server's I/O, checkpoints and WAL, what its sessions waited on), drops every scratch
/// database, and recommends a <c>-j</c> and a host budget (docs/tuning.md). <c>-d</c> names the database it connects
/// to for CREATE and DROP DATABASE; nothing is written into it.
/// </summary>
internal sealed partial class TuneCommand
{
    /// <summary>Every scratch database's name starts so: <c>restorecluster_tune_PID_J</c>.</summary>
    public const string ScratchPrefix = "restorecluster_tune_";

    private readonly ConnectionOptionsSpec _connection = new("the database to connect to for CREATE and DROP DATABASE (name, key=value string or URI); nothing is written into it");

    private readonly Option<string> _jobs = new("--jobs", "-j") { HelpName = "LIST", Description = "the -j values to try, in order (comma-separated)", DefaultValueFactory = _ => "1,2,4,8" };

    private readonly Option<string?> _sample = new("--sample") { HelpName = "SIZE", Description = "restore the whole schema but only the first SIZE of each table's data (e.g. 64MB)" };

    private readonly Option<bool> _json = new("--json") { Description = "print the report as one JSON object on stdout, and nothing else there" };

    private readonly Option<string> _plot = new("--plot") { HelpName = "FILE", Description = "write a PNG plot of time and waits against -j here", DefaultValueFactory = _ => "tune.png" };

    private readonly Argument<string?> _archive = new("archive") { Description = "the archive file or directory", Arity = ArgumentArity.ZeroOrOne };

    public TuneCommand()
    {
        Command = new Command("tune", "restore the archive into scratch databases at several -j, measure each, drop them, and recommend -j and a host budget");
        foreach (var option in _connection.All)
        {
            Command.Options.Add(option);
        }

        Command.Options.Add(_jobs);
        Command.Options.Add(_sample);
        Command.Options.Add(_json);
        Command.Options.Add(_plot);
        Command.Arguments.Add(_archive);
    }

    public Command Command { get; }

    public int Run(ParseResult p, CliOutput io)
    {
        string? archivePath = p.GetValue(_archive);
        Program.RejectUnknownOption(archivePath);
        if (ArchiveOpener.IsStandardInput(archivePath))
        {
            throw new CliError("tune needs an archive file or directory (it restores it several times)", ExitCodes.Usage);
        }

        var jobs = ParseJobs(p.GetValue(_jobs)!);
        long sample = p.GetValue(_sample) is { } size
            ? ByteSize.Parse(size, "--sample")
            : 0;
        string db = p.GetValue(_connection.DbName) ?? throw new CliError("option -d/--dbname must be specified", ExitCodes.Usage);
        string plotPath = Path.GetFullPath(p.GetValue(_plot)!);
        if (!Directory.Exists(Path.GetDirectoryName(plotPath)))
        {
            // Said before the trials, not after them.
            throw new CliError($"could not write the plot \"{plotPath}\": its folder does not exist");
        }

        bool json = p.GetValue(_json);

        using var archive = ArchiveOpener.Open(archivePath, io);
        if (!archive.IsSeekable)
        {
            throw new CliError($"tune cannot restore \"{archivePath}\" several times: it is not a file or directory");
        }

        var (target, prompt) = _connection.Resolve(p, db);
        string? typed = null;
        Func<string?>? remembering = prompt is null ? null : () => typed = prompt();
        NpgsqlConnection control;
        try
        {
            control = MaintenanceSession.Open(target, remembering, io.Warn);
        }
        catch (RestoreFailedException e)
        {
            throw new CliError(e.Message);
        }

        if (typed is not null)
        {
            target = target.WithPassword(typed);
        }

        using var logs = RestoreLogs.Open(null, line => { lock (io.Error) { io.Error.WriteLine(line); } }, stackTraces: false);
        using var loggers = logs.CreateFactory();
        var log = loggers.CreateLogger<TuneCommand>();
        // Ctrl-C ends the trial running (its job is cancelled) and the loop; the process stays to drop the databases.
        using var ctrlC = new CtrlC();
        using (control)
        {
            var trials = new Trials(control, target, archive, sample, io, log);
            var runs = new List<TuneRun>();
            try
            {
                foreach (int j in jobs)
                {
                    if (ctrlC.Pressed)
                    {
                        break;
                    }

                    if (!json)
                    {
                        io.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"restorecluster: tune: restoring with -j {j} into a scratch database"));
                    }

                    runs.Add(trials.Run(j));
                }
            }
            finally
            {
                trials.DropAll();
            }

            if (ctrlC.Pressed)
            {
                throw new CliError("tune cancelled; its scratch databases were dropped");
            }

            var advice = JobsAdvice.Recommend([.. runs.Select(r => r.Trial)]);
            var report = new TuneReport(archive.DisplayName, target.ToString(), trials.ServerVersion, sample, runs, advice, plotPath, DataBytes(archive));
            TunePlot.Write(report, plotPath);
            Log.Recommended(log, advice.Jobs ?? 0, advice.Reason);
            using var stdout = new StreamWriter(io.OpenStdout(), new System.Text.UTF8Encoding(false));
            if (json)
            {
                report.WriteJson(stdout);
            }
            else
            {
                report.WriteText(stdout);
            }

            stdout.Flush();
            return advice.Jobs is null ? ExitCodes.Failure : ExitCodes.Success;
        }
    }

    /// <summary>The <c>--jobs</c> list: positive numbers, each once, in the order given.</summary>
    public static IReadOnlyList<int> ParseJobs(string text)
    {
        var jobs = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int j) || j < 1 || j > 1024)
            {
                throw new CliError($"invalid --jobs list \"{text}\": \"{part}\" is not a number of jobs from 1 to 1024", ExitCodes.Usage);
            }

            if (jobs.Contains(j))
            {
                throw new CliError($"invalid --jobs list \"{text}\": {j} is given twice", ExitCodes.Usage);
            }

            jobs.Add(j);
        }

        return jobs;
    }

    private static long DataBytes(PgArchive archive) => archive.Entries.Where(e => e.HadDumper).Sum(e => e.DataLength);

    /// <summary>The trial restores: each into a scratch database of its own, measured, and all dropped at the end.</summary>
    private sealed class Trials(NpgsqlConnection control, ConnectionTarget target, PgArchive archive, long sample, CliOutput io, ILogger log)
    {
        private readonly List<string> _made = [];
        private bool? _canCheckpoint;

        public int ServerVersion { get; } = Convert.ToInt32(Query(control, "SHOW server_version_num"), CultureInfo.InvariantCulture);

        public TuneRun Run(int jobs)
        {
            string name = string.Create(CultureInfo.InvariantCulture, $"{ScratchPrefix}{Environment.ProcessId}_{jobs}");
            Drop(name);
            Checkpoint();
            Execute($"CREATE DATABASE {Quote(name)} TEMPLATE template0");
            _made.Add(name);
            Log.TrialStarted(log, jobs, name);
            var before = ServerCounters.Take(control, ServerVersion, name);
            var errors = new StringWriter();
            var quiet = new CliOutput(() => Stream.Null, errors, () => Stream.Null);
            var options = new RestoreOptions { SampleDataBytes = sample };
            var clock = Stopwatch.StartNew();
            JobStatus status;
            using var logs = RestoreLogs.Open(null, errors.WriteLine, stackTraces: false);
            // Its own connection: the sampler runs beside the control session's queries.
            using (var samplerConn = control.CloneWith(control.ConnectionString))
            {
                samplerConn.Open();
                var sampler = new WaitSampler(samplerConn, name);
                try
                {
                    status = ParallelRestore.RunJobAsync(
                        archive, archive.Entries, options, target.WithDatabase(name), jobs, new HostBudgetChoice(jobs, null), resume: false, "none", TimeSpan.Zero,
                        new TelemetryOptions(null, false), quiet, logs).GetAwaiter().GetResult();
                }
                finally
                {
                    sampler.DisposeAsync().AsTask().GetAwaiter().GetResult();
                }

                clock.Stop();
                var after = ServerCounters.Take(control, ServerVersion, name);
                var work = ServerCounters.Between(control, before, after);
                var lines = errors.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                int sampleErrors = sample > 0 ? lines.Count(IsForeignKeyFailure) : 0;
                bool finished = status.State is JobState.Succeeded or JobState.CompletedWithErrors;
                var run = new TuneRun(
                    new TrialRun(jobs, JobSeconds(status, clock.Elapsed), finished, sampler.Shares),
                    status.State, status.PhaseSeconds, status.Rows, status.Errors - sampleErrors, sampleErrors, work, sampler.Samples,
                    finished ? null : status.Message ?? "the restore failed");
                Log.TrialEnded(log, jobs, run.Trial.WallSeconds, status.State.ToString());
                if (!finished)
                {
                    io.Warn($"tune: the restore with -j {jobs} did not finish: {run.Failure}");
                }

                return run;
            }
        }

        // The job's own time, from its start on the embedded silo to its end: the sum of its phases. The silo's start
        // before it is the same at every -j (and longest at the first, which loads the code) and is left out.
        private static double JobSeconds(JobStatus status, TimeSpan whole)
        {
            double phases = status.PhaseSeconds.PreData + status.PhaseSeconds.Data + status.PhaseSeconds.PostData;
            return phases > 0 ? phases : whole.TotalSeconds;
        }

        /// <summary>Drops every scratch database made; a failure is a warning naming the database left behind.</summary>
        public void DropAll()
        {
            foreach (string name in _made)
            {
                try
                {
                    Drop(name);
                }
                catch (NpgsqlException e)
                {
                    io.Warn($"could not drop scratch database \"{name}\": {e.Message}; drop it yourself");
                }
            }

            _made.Clear();
        }

        private void Drop(string name)
        {
            // WITH (FORCE) (PostgreSQL 13+) ends the sessions a failed trial may have left.
            Execute($"DROP DATABASE IF EXISTS {Quote(name)}{(ServerVersion >= 130000 ? " WITH (FORCE)" : "")}");
        }

        // A checkpoint before each run, as the benchmark does, so that one run's dirty buffers are not the next one's
        // writes. It needs superuser or pg_checkpoint; without them the runs go on, and the report says so.
        private void Checkpoint()
        {
            if (_canCheckpoint == false)
            {
                return;
            }

            try
            {
                Execute("CHECKPOINT");
                _canCheckpoint = true;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                _canCheckpoint = false;
                io.Warn($"tune: no CHECKPOINT before each run ({e.MessageText}): one run's writes may land in the next");
            }
        }

        private void Execute(string sql)
        {
            using var cmd = new NpgsqlCommand(sql, control);
            cmd.ExecuteNonQuery();
        }

        private static string Query(NpgsqlConnection conn, string sql)
        {
            using var cmd = new NpgsqlCommand(sql, conn);
            return Convert.ToString(cmd.ExecuteScalar(), CultureInfo.InvariantCulture)!;
        }

        private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

        // A foreign key whose referenced rows were cut off by --sample: the entry's kind is named in the error line.
        private static bool IsForeignKeyFailure(string line) =>
            line.Contains("restorecluster: error:", StringComparison.Ordinal) && line.Contains("FK CONSTRAINT", StringComparison.Ordinal);
    }
}

/// <summary>One trial as measured: the advice's view, how it ended, its phases, COPY rows loaded, errors (foreign keys broken by sampling apart), the server's work, the samples.</summary>
internal sealed record TuneRun(
    TrialRun Trial, JobState State, PhaseSeconds Phases, long Rows, int Errors, int SampleErrors, ServerWork Server, int Samples, string? Failure);
