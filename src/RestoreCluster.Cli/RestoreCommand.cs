using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using RestoreCluster.Archive;
using RestoreCluster.Planning;
using RestoreCluster.Hosting;
using RestoreCluster.Restore;

namespace RestoreCluster.Cli;

/// <summary><c>restorecluster restore</c>: pg_restore's command line (-l, -f and, in later work, -d).</summary>
internal static partial class RestoreCommand
{
    /// <summary>Runs <c>restore</c>, or with <paramref name="submit"/> <c>submit</c> (the same options; -d and a cluster required).</summary>
    public static int Run(ParseResult p, RestoreOptionsSpec s, CliOutput io, bool submit = false)
    {
        string? archivePath = p.GetValue(s.Archive);
        Program.RejectUnknownOption(archivePath);
        var (selection, restore) = BuildOptions(p, s);
        bool list = p.GetValue(s.List);
        string? file = p.GetValue(s.File);
        string? db = p.GetValue(s.DbName);
        if (submit && (db is null || list || file is not null))
        {
            throw new CliError("submit needs -d/--dbname (a job restores into a database)", ExitCodes.Usage);
        }

        Validate(p, s, list, file, db, selection);
        if (!submit && p.GetValue(s.Cluster) is null && (p.GetValue(s.TlsCert) ?? p.GetValue(s.TlsKey) ?? p.GetValue(s.TlsCa)) is not null)
        {
            // They secure the cluster's traffic: a restore in this process has none.
            throw new CliError("--tls-cert, --tls-key and --tls-ca need --cluster", ExitCodes.Usage);
        }

        // A restore through the grains starts its silo now, while the archive is read and the target reached.
        using var earlyLogs = db is not null && !list && !submit && p.GetValue(s.Cluster) is null && RunsOnGrains(restore, p.GetValue(s.Jobs)) && !ArchiveOpener.IsStandardInput(archivePath)
            ? OpenLogs(p.GetValue(s.LogFile), io, restore.Verbose)
            : null;
        if (earlyLogs is not null && HostBudgetChoice.From(p, s).Protects)
        {
            // Under --protect this process is a client of the server it protects, often on the same host: it yields the
            // CPU from here on, before the silo's start, which is most of the CPU a short restore costs its host
            // (docs/concurrency.md, "Adaptive budgets"). Threads made later take it from their creator.
            ProcessPriority.YieldForProtect();
        }

        using var early = earlyLogs is null ? null : EarlySilo.Start(TelemetryOptions.FromEnvironment(p.GetValue(s.OtelConsole)), earlyLogs);
        using var archive = ArchiveOpener.Open(archivePath, io);
        CheckFormat(p.GetValue(s.Format), archive);
        if (archive.Header.IntSize > 4)
        {
            io.Warn("archive was made on a machine with larger integers, some operations might fail");
        }

        (var order, restore) = ApplyUseList(p, s, archive, restore, io.Warn);
        selection = restore.Selection;

        if (list)
        {
            using var output = OpenOutput(file, io);
            ListCommand.Run(archive, order, selection, json: false, verbose: p.GetValue(s.Verbose), output);
            CheckStrictNames(archive, order, selection);
            return ExitCodes.Success;
        }

        CheckStrictNames(archive, order, selection);
        using var ownLogs = earlyLogs is null ? OpenLogs(p.GetValue(s.LogFile), io, restore.Verbose) : null;
        var logs = earlyLogs ?? ownLogs!;
        if (db is not null)
        {
            return submit || p.GetValue(s.Cluster) is not null
                ? Cluster.ClusterRestore.Run(p, s, io, logs, archive, order, restore, db, submit)
                : RestoreIntoDatabase(p, s, io, logs, archive, order, restore, db, early);
        }

        using var loggers = logs.CreateFactory();
        var log = loggers.CreateLogger(typeof(RestoreCommand));
        Log.ScriptStarted(log, archive.DisplayName, file ?? "-");
        using (var output = OpenOutput(file, io))
        {
            foreach (string w in ScriptRestore.Write(archive, order, restore, output, io.Info))
            {
                io.Warn(w);
            }
        }

        Log.ScriptWritten(log, archive.DisplayName, file ?? "-");
        return ExitCodes.Success;
    }

    /// <summary>The archive's entries in the order -L gives (all of them, in archive order, without -L), and the options with its choice.</summary>
    internal static (IReadOnlyList<TocEntry> Order, RestoreOptions Restore) ApplyUseList(
        ParseResult p, RestoreOptionsSpec s, PgArchive archive, RestoreOptions restore, Action<string> warn)
    {
        if (p.GetValue(s.UseList) is not { } useListPath)
        {
            return (archive.Entries, restore);
        }

        var useList = UseList.Load(useListPath, archive);
        foreach (string w in useList.Warnings)
        {
            warn(w);
        }

        return (useList.Order, restore with { Selection = restore.Selection with { WantedIds = useList.WantedIds } });
    }

    // Whether a restore into a database runs through the grains (an archive from standard input aside).
    private static bool RunsOnGrains(RestoreOptions restore, int jobs) =>
        !restore.SingleTransaction && !(restore.TransactionSize > 0 && jobs == 1);

    private static int RestoreIntoDatabase(
        ParseResult p, RestoreOptionsSpec s, CliOutput io, RestoreLogs logs, PgArchive archive, IReadOnlyList<TocEntry> order, RestoreOptions restore, string db,
        EarlySilo? early)
    {
        var (target, prompt) = s.Connection.Resolve(p, db);
        int jobs = p.GetValue(s.Jobs);
        // --transaction-size without -j is pg_restore 17's serial restore: its blocks, and their rollback at an error.
        bool serialBlocks = restore.TransactionSize > 0 && jobs == 1;
        if (RunsOnGrains(restore, jobs) && archive.IsSeekable)
        {
            // The grains: parallel units, per-host budget, exactly-once journal. Worker sessions cannot prompt,
            // so a password the server asks for must be known up front (-W, the target, PGPASSWORD, .pgpass).
            return ParallelRestore.RunAsync(
                archive, order, restore, target, jobs, HostBudgetChoice.From(p, s), p.GetValue(s.Resume),
                p.GetValue(s.Progress) ?? "auto", TimeSpan.FromSeconds(p.GetValue(s.StallWarning)), TelemetryOptions.FromEnvironment(p.GetValue(s.OtelConsole)), io, logs,
                early).GetAwaiter().GetResult();
        }

        // pg_restore's words for the two inputs that cannot seek (pg_backup_custom.c, _ReopenArchive).
        bool standardInput = ArchiveOpener.IsStandardInput(p.GetValue(s.Archive));
        if (jobs > 1 && !archive.IsSeekable)
        {
            throw new CliError(standardInput ? "parallel restore from standard input is not supported" : "parallel restore from non-seekable file is not supported");
        }

        if (p.GetValue(s.Resume))
        {
            throw new CliError("--resume needs a restore that keeps a journal: not with -1, --transaction-size without -j, or from standard input or a non-seekable file", ExitCodes.Usage);
        }

        // Started for the grains, but the archive path cannot seek (a named pipe): the restore is serial, without it.
        early?.Dispose();

        using var loggers = logs.CreateFactory();
        var log = loggers.CreateLogger(typeof(RestoreCommand));
        // The target's display form: host, port, database and user, never the password.
        string why = restore.SingleTransaction ? "-1" : serialBlocks ? "--transaction-size" : standardInput ? "standard input" : "an archive that cannot seek";
        Log.SerialStarted(log, archive.DisplayName, target.ToString(), why);
        var clock = Stopwatch.StartNew();
        int errors;
        try
        {
            errors = DatabaseRestore.Run(archive, order, restore, target, prompt, io.Fail, io.Warn, io.Info);
        }
        catch (RestoreFailedException e)
        {
            Log.SerialFailed(log, clock.Elapsed.TotalSeconds, e.Message);
            throw;
        }

        Log.SerialEnded(log, clock.Elapsed.TotalSeconds, errors);
        if (errors > 0)
        {
            io.Warn($"errors ignored on restore: {errors}");
            return ExitCodes.Failure;
        }

        return ExitCodes.Success;
    }

    internal static (SelectionOptions, RestoreOptions) BuildOptions(ParseResult p, RestoreOptionsSpec s)
    {
        var sections = RestoreSections.None;
        foreach (string section in p.GetValue(s.Section) ?? [])
        {
            sections |= section switch
            {
                "pre-data" => RestoreSections.PreData,
                "data" => RestoreSections.Data,
                "post-data" => RestoreSections.PostData,
                _ => throw new CliError($"unrecognized section name: \"{section}\"", ExitCodes.Usage),
            };
        }

        var selection = new SelectionOptions
        {
            SchemaOnly = p.GetValue(s.SchemaOnly),
            DataOnly = p.GetValue(s.DataOnly),
            NoData = p.GetValue(s.NoData),
            NoSchema = p.GetValue(s.NoSchema),
            Statistics = p.GetValue(s.Statistics),
            NoStatistics = p.GetValue(s.NoStatistics),
            StatisticsOnly = p.GetValue(s.StatisticsOnly),
            NoPolicies = p.GetValue(s.NoPolicies),
            CreateDatabase = p.GetValue(s.Create),
            NoPrivileges = p.GetValue(s.NoPrivileges),
            NoComments = p.GetValue(s.NoComments),
            NoPublications = p.GetValue(s.NoPublications),
            NoSecurityLabels = p.GetValue(s.NoSecurityLabels),
            NoSubscriptions = p.GetValue(s.NoSubscriptions),
            Sections = sections == RestoreSections.None ? RestoreSections.All : sections,
            StrictNames = p.GetValue(s.StrictNames),
        };
        selection = WithNames(p, s, selection);

        bool single = p.GetValue(s.SingleTransaction);
        int transactionSize = p.GetValue(s.TransactionSize) is { } size ? ParseInt(size, "--transaction-size", 1, int.MaxValue) : 0;
        var restore = new RestoreOptions
        {
            Selection = selection,
            Clean = p.GetValue(s.Clean),
            IfExists = p.GetValue(s.IfExists),
            SingleTransaction = single,
            NoOwner = p.GetValue(s.NoOwner),
            UseSetSessionAuthorization = p.GetValue(s.UseSetSessionAuthorization),
            NoTablespaces = p.GetValue(s.NoTablespaces),
            NoTableAccessMethod = p.GetValue(s.NoTableAccessMethod),
            Role = p.GetValue(s.Role),
            Superuser = p.GetValue(s.Superuser),
            DisableTriggers = p.GetValue(s.DisableTriggers),
            EnableRowSecurity = p.GetValue(s.EnableRowSecurity),
            NoDataForFailedTables = p.GetValue(s.NoDataForFailedTables),
            TransactionSize = transactionSize,
            // -1 and --transaction-size imply -e (pg_restore.c).
            ExitOnError = p.GetValue(s.ExitOnError) || single || transactionSize > 0,
            Verbose = p.GetValue(s.Verbose),
            NoAsyncCommit = p.GetValue(s.NoAsyncCommit),
            NoCopyFreeze = p.GetValue(s.NoCopyFreeze),
            NoKeysAsIndexes = p.GetValue(s.NoKeysAsIndexes),
            NoFkNotValid = p.GetValue(s.NoFkNotValid),
            SerialPreData = p.GetValue(s.SerialPreData),
            SplitLargerThan = p.GetValue(s.SplitLargerThan) is { } split ? ParseSplit(split) : RestoreOptions.DefaultSplitLargerThan,
            Analyze = p.GetValue(s.Analyze),
            HostMemory = p.GetValue(s.HostMemory) is { } memory ? ByteSize.Parse(memory, "--host-memory") : 0,
            // Script output is always restricted; pg_restore makes up a key when none is given.
            RestrictKey = p.GetValue(s.RestrictKey) ?? (p.GetValue(s.DbName) is null ? NewRestrictKey() : null),
        };
        return (selection, restore);
    }

    // --split-larger-than SIZE, or none (0 too): no table is split.
    private static long ParseSplit(string text) =>
        text.Trim() is "0" || text.Trim().Equals("none", StringComparison.OrdinalIgnoreCase) ? 0 : ByteSize.Parse(text, "--split-larger-than");

    /// <summary>
    /// What <c>restore OPTIONS -d TARGET ARCHIVE</c> would refuse before it connects (an unknown option, a bad
    /// value, conflicting options, a --filter file it cannot read), in restore's own words; null when nothing.
    /// The fleet manifest checks each restore's options with it before anything is submitted.
    /// </summary>
    public static string? Refusal(IReadOnlyList<string> options, string target, string archive)
    {
        var (p, spec) = Parse(options, target, archive);
        if (p.Errors.Count > 0)
        {
            var unknown = p.Tokens.FirstOrDefault(t => t.Type == System.CommandLine.Parsing.TokenType.Argument && t.Value.Length > 1 && t.Value[0] == '-');
            return unknown is not null ? $"unrecognized option \"{unknown.Value}\"" : p.Errors[0].Message;
        }

        if (p.GetValue(spec.Archive) != archive)
        {
            return $"unexpected argument \"{p.GetValue(spec.Archive)}\"";
        }

        try
        {
            var (selection, _) = BuildOptions(p, spec);
            Validate(p, spec, p.GetValue(spec.List), p.GetValue(spec.File), p.GetValue(spec.DbName), selection);
            return null;
        }
        catch (Exception e) when (e is CliError or PlanningException or ArgumentException or IOException)
        {
            return e.Message;
        }
    }

    /// <summary><c>restore OPTIONS -d TARGET ARCHIVE</c> parsed as the command line would be (a fleet's restore is one).</summary>
    internal static (ParseResult Parse, RestoreOptionsSpec Spec) Parse(IReadOnlyList<string> options, string target, string archive)
    {
        var spec = new RestoreOptionsSpec();
        var command = new Command("restore");
        spec.AddTo(command);
        return (command.Parse([.. options, "-d", target, archive]), spec);
    }

    // pg_restore.c's checks of option combinations; cli.md makes them usage errors (exit code 2).
    private static void Validate(ParseResult p, RestoreOptionsSpec s, bool list, string? file, string? db, SelectionOptions selection)
    {
        void Usage(string message) => throw new CliError(message, ExitCodes.Usage);
        int jobs = p.GetValue(s.Jobs);
        if (db is not null && file is not null)
        {
            Usage("options -d/--dbname and -f/--file cannot be used together");
        }

        if (!list && db is null && file is null)
        {
            Usage("one of -d/--dbname and -f/--file must be specified");
        }

        // pg_restore 18's conflicting "-only", "no-" and --statistics options, in its order and words.
        foreach (var (a, aName, b, bName) in new (bool, string, bool, string)[]
                 {
                     (selection.SchemaOnly, "-s/--schema-only", selection.DataOnly, "-a/--data-only"),
                     (selection.SchemaOnly, "-s/--schema-only", selection.StatisticsOnly, "--statistics-only"),
                     (selection.DataOnly, "-a/--data-only", selection.StatisticsOnly, "--statistics-only"),
                     (selection.DataOnly, "-a/--data-only", selection.NoData, "--no-data"),
                     (selection.SchemaOnly, "-s/--schema-only", selection.NoSchema, "--no-schema"),
                     (selection.StatisticsOnly, "--statistics-only", selection.NoStatistics, "--no-statistics"),
                     (selection.Statistics, "--statistics", selection.NoStatistics, "--no-statistics"),
                     (selection.DataOnly, "-a/--data-only", selection.Statistics, "--statistics"),
                     (selection.SchemaOnly, "-s/--schema-only", selection.Statistics, "--statistics"),
                     (p.GetValue(s.Clean), "-c/--clean", selection.DataOnly, "-a/--data-only"),
                     (p.GetValue(s.SingleTransaction), "-1/--single-transaction", p.GetValue(s.TransactionSize) is not null, "--transaction-size"),
                 })
        {
            if (a && b)
            {
                Usage($"options {aName} and {bName} cannot be used together");
            }
        }

        if (selection.CreateDatabase && p.GetValue(s.SingleTransaction))
        {
            Usage("options -C/--create and -1/--single-transaction cannot be used together");
        }

        if (jobs < 1)
        {
            Usage("invalid number of parallel jobs");
        }

        if (p.GetValue(s.SingleTransaction) && jobs > 1)
        {
            Usage("cannot specify both --single-transaction and multiple jobs");
        }

        if (p.GetValue(s.IfExists) && !p.GetValue(s.Clean))
        {
            Usage("option --if-exists requires option -c/--clean");
        }

        // Both act on the target: a script or a listing has none (pg_restore has neither option).
        foreach (var (given, name) in new[] { (p.GetValue(s.Analyze), "--analyze"), (p.GetValue(s.HostMemory) is not null, "--host-memory") })
        {
            if (given && list)
            {
                Usage($"options -l/--list and {name} cannot be used together");
            }

            if (given && file is not null)
            {
                Usage($"options -f/--file and {name} cannot be used together");
            }
        }

        // Its share is per unit of a host budget: the serial engine (RestoreIntoDatabase) has neither.
        bool serial = p.GetValue(s.SingleTransaction) || (p.GetValue(s.TransactionSize) is not null && jobs == 1) || ArchiveOpener.IsStandardInput(p.GetValue(s.Archive));
        if (p.GetValue(s.HostMemory) is not null && db is not null && serial)
        {
            Usage("--host-memory sizes the units of a restore through the grains: not with -1, --transaction-size without -j, or from standard input");
        }

        if (p.GetValue(s.RestrictKey) is { } key)
        {
            if (db is not null)
            {
                Usage("options -d/--dbname and --restrict-key cannot be used together");
            }

            if (key.Length == 0 || !key.All(char.IsAsciiLetterOrDigit))
            {
                Usage("invalid restrict key");
            }
        }

        // Its usage errors, before anything is read.
        _ = HostBudgetChoice.From(p, s);

        if (p.GetValue(s.StallWarning) < 0)
        {
            Usage("--stall-warning must be 0 (never) or a number of seconds");
        }

        if (p.GetValue(s.Progress) is not ("auto" or "plain" or "json" or "none"))
        {
            Usage($"invalid --progress value \"{p.GetValue(s.Progress)}\" (auto, plain, json or none)");
        }

        if (p.GetValue(s.Format) is { } format && format.ToLowerInvariant() is not ("c" or "custom" or "d" or "directory" or "t" or "tar"))
        {
            Usage($"unrecognized archive format \"{format}\"; please specify \"c\", \"d\", or \"t\"");
        }
    }

    /// <summary>
    /// The -n, -N, -t, -I, -P and -T names and the --filter files' names, in the order pg_restore 18's getopt loop meets
    /// them (pg_restore.c reads a --filter file, through read_restore_filters, when it reaches the option, appending to
    /// the same lists as the options do): --strict-names then reports the same first unmatched name. A bad filter file
    /// stops it before anything else.
    /// </summary>
    internal static SelectionOptions WithNames(ParseResult p, RestoreOptionsSpec s, SelectionOptions selection)
    {
        var position = new Dictionary<Token, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < p.Tokens.Count; i++)
        {
            position[p.Tokens[i]] = i;
        }

        var given = new List<(int Position, Option<string[]> Option, string Value)>();
        foreach (var option in (Option<string[]>[])[s.Schema, s.ExcludeSchema, s.Table, s.Index, s.Function, s.Trigger, s.Filter])
        {
            foreach (var token in p.GetResult(option)?.Tokens ?? [])
            {
                given.Add((position.TryGetValue(token, out int at) ? at : int.MaxValue, option, token.Value));
            }
        }

        foreach (var (_, option, value) in given.OrderBy(g => g.Position))
        {
            selection = option == s.Filter ? ReadFilter(value, selection)
                : option == s.Schema ? selection with { SchemaNames = [.. selection.SchemaNames, value] }
                : option == s.ExcludeSchema ? selection with { ExcludeSchemaNames = [.. selection.ExcludeSchemaNames, value] }
                : option == s.Table ? selection with { TableNames = [.. selection.TableNames, value] }
                : option == s.Index ? selection with { IndexNames = [.. selection.IndexNames, value] }
                : option == s.Function ? selection with { FunctionNames = [.. selection.FunctionNames, value] }
                : selection with { TriggerNames = [.. selection.TriggerNames, value] };
        }

        return selection;
    }

    // --filter: pg_restore's read_restore_filters ("-" is standard input); a bad line is bad input (exit code 1).
    private static SelectionOptions ReadFilter(string path, SelectionOptions selection)
    {
        if (path == "-")
        {
            return FilterFile.Apply(Console.In, null, selection);
        }

        StreamReader reader;
        try
        {
            reader = new StreamReader(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            string reason = ex is FileNotFoundException or DirectoryNotFoundException ? "No such file or directory" : ex.Message;
            throw new CliError($"could not open filter file \"{path}\": {reason}");
        }

        using (reader)
        {
            return FilterFile.Apply(reader, path, selection);
        }
    }

    /// <summary>
    /// option_parse_int (fe_utils/option_utils.c): an integer with optional spaces around it, in range; its two
    /// messages. A usage error here, as -j's is.
    /// </summary>
    internal static int ParseInt(string value, string name, int min, int max)
    {
        string text = value.TrimStart(' ', '\t', '\n', '\v', '\f', '\r');
        int end = 0;
        if (end < text.Length && text[end] is '+' or '-')
        {
            end++;
        }

        int digits = end;
        while (end < text.Length && char.IsAsciiDigit(text[end]))
        {
            end++;
        }

        // strtol without digits reads 0 and leaves the whole text to check.
        string rest = end > digits ? text[end..] : text;
        if (rest.Trim(' ', '\t', '\n', '\v', '\f', '\r').Length > 0)
        {
            throw new CliError($"invalid value \"{value}\" for option {name}", ExitCodes.Usage);
        }

        if (end == digits || !long.TryParse(text[..end], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long parsed)
            || parsed < min || parsed > max)
        {
            throw new CliError($"{name} must be in range {min}..{max}", ExitCodes.Usage);
        }

        return (int)parsed;
    }

    private static void CheckFormat(string? format, PgArchive archive)
    {
        if (format is null)
        {
            return;
        }

        var wanted = char.ToLowerInvariant(format[0]) switch
        {
            'c' => ArchiveFormat.Custom,
            'd' => ArchiveFormat.Directory,
            _ => ArchiveFormat.Tar,
        };
        if (wanted != archive.Header.Format)
        {
            throw new CliError($"\"{archive.DisplayName}\" is a {archive.Header.Format.ToString().ToLowerInvariant()} archive, not {wanted.ToString().ToLowerInvariant()} as -F says");
        }
    }

    internal static void CheckStrictNames(PgArchive archive, IReadOnlyList<TocEntry> order, SelectionOptions selection)
    {
        // pg_restore checks after marking entries; so do we (only when --strict-names is given).
        if (!selection.StrictNames)
        {
            return;
        }

        var touched = new HashSet<(NameKind, string)>();
        EntrySelector.Select(order, archive, selection, touched);
        if (EntrySelector.FirstUnmatchedName(selection, touched) is { } missing)
        {
            throw new CliError(missing);
        }
    }

    // --log-file is opened before anything runs: a path that cannot be written is bad input, said at once.
    private static RestoreLogs OpenLogs(string? file, CliOutput io, bool verbose)
    {
        try
        {
            // Records come from any thread: a line is written whole (Console.Error locks the same way).
            var stderr = io.Error;
            return RestoreLogs.Open(file, line => { lock (stderr) { stderr.WriteLine(line); } }, stackTraces: verbose);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliError($"could not open log file \"{file}\": {ex.Message}");
        }
    }

    private static Stream OpenOutput(string? file, CliOutput io)
    {
        if (file is null or "-")
        {
            return io.OpenStdout();
        }

        try
        {
            return new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliError($"could not open output file \"{file}\": {ex.Message}");
        }
    }

    /// <summary>pg_restore's random \restrict key when none is given: letters and digits.</summary>
    public static string NewRestrictKey()
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        return RandomNumberGenerator.GetString(Alphabet, 63);
    }
}
