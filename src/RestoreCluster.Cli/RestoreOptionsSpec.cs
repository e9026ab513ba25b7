using System.CommandLine;
using RestoreCluster.Planning;

namespace RestoreCluster.Cli;

/// <summary>The options of <c>restorecluster restore</c>: pg_restore's, with its spellings, and our own.</summary>
internal sealed class RestoreOptionsSpec
{
    /// <summary>-d, -h, -p, -U, -w, -W: the options <c>forget</c> shares.</summary>
    public ConnectionOptionsSpec Connection { get; } = new("connect to database (name, key=value string or URI) and restore into it");

    public Option<string?> DbName => Connection.DbName;

    public Option<string?> File { get; } = new("--file", "-f") { HelpName = "FILENAME", Description = "output file name (- for stdout) for an SQL script" };

    public Option<string?> Format { get; } = new("--format", "-F") { HelpName = "c|d|t", Description = "backup file format (c, d or t; detected when absent)" };

    public Option<bool> List { get; } = new("--list", "-l") { Description = "print summarized TOC of the archive" };

    public Option<bool> Verbose { get; } = new("--verbose", "-v") { Description = "verbose mode" };

    public Option<string?> Host => Connection.Host;

    public Option<string?> Port => Connection.Port;

    public Option<string?> UserName => Connection.UserName;

    public Option<bool> NoPassword => Connection.NoPassword;

    public Option<bool> Password => Connection.Password;

    public Option<string?> Role { get; } = new("--role") { HelpName = "ROLENAME", Description = "do SET ROLE before restore" };

    public Option<int> Jobs { get; } = new("--jobs", "-j") { HelpName = "NUM", Description = "use this many parallel jobs to restore", DefaultValueFactory = _ => 1 };

    public Option<string?> UseList { get; } = new("--use-list", "-L") { HelpName = "FILENAME", Description = "use table of contents from this file for selecting/ordering output" };

    public Option<string[]> Schema { get; } = new("--schema", "-n") { HelpName = "NAME", Description = "restore only objects in this schema" };

    public Option<string[]> ExcludeSchema { get; } = new("--exclude-schema", "-N") { HelpName = "NAME", Description = "do not restore objects in this schema" };

    public Option<string[]> Table { get; } = new("--table", "-t") { HelpName = "NAME", Description = "restore named relation (table, view, etc.)" };

    public Option<string[]> Trigger { get; } = new("--trigger", "-T") { HelpName = "NAME", Description = "restore named trigger" };

    public Option<string[]> Index { get; } = new("--index", "-I") { HelpName = "NAME", Description = "restore named index" };

    public Option<string[]> Function { get; } = new("--function", "-P") { HelpName = "NAME(args)", Description = "restore named function" };

    public Option<bool> SchemaOnly { get; } = new("--schema-only", "-s") { Description = "restore only the schema, no data" };

    public Option<bool> DataOnly { get; } = new("--data-only", "-a") { Description = "restore only the data, no schema" };

    public Option<bool> Clean { get; } = new("--clean", "-c") { Description = "clean (drop) database objects before recreating" };

    public Option<bool> IfExists { get; } = new("--if-exists") { Description = "use IF EXISTS when dropping objects" };

    public Option<bool> Create { get; } = new("--create", "-C") { Description = "create the target database" };

    public Option<bool> ExitOnError { get; } = new("--exit-on-error", "-e") { Description = "exit on error, default is to continue" };

    public Option<bool> SingleTransaction { get; } = new("--single-transaction", "-1") { Description = "restore as a single transaction" };

    public Option<bool> NoOwner { get; } = new("--no-owner", "-O") { Description = "skip restoration of object ownership" };

    public Option<bool> NoPrivileges { get; } = new("--no-privileges", "-x", "--no-acl") { Description = "skip restoration of access privileges (grant/revoke)" };

    public Option<string?> Superuser { get; } = new("--superuser", "-S") { HelpName = "NAME", Description = "superuser user name to use for disabling triggers" };

    public Option<bool> DisableTriggers { get; } = new("--disable-triggers") { Description = "disable triggers during data-only restore" };

    public Option<string[]> Section { get; } = new("--section") { HelpName = "SECTION", Description = "restore named section (pre-data, data, or post-data)" };

    public Option<bool> NoComments { get; } = new("--no-comments") { Description = "do not restore comment commands" };

    // pg_restore 17 and 18's options, with their --help words.
    public Option<string[]> Filter { get; } = new("--filter") { HelpName = "FILENAME", Description = "restore or skip objects based on expressions in FILENAME" };

    public Option<bool> NoData { get; } = new("--no-data") { Description = "do not restore data" };

    public Option<bool> NoPolicies { get; } = new("--no-policies") { Description = "do not restore row security policies" };

    public Option<bool> NoSchema { get; } = new("--no-schema") { Description = "do not restore schema" };

    public Option<bool> NoStatistics { get; } = new("--no-statistics") { Description = "do not restore statistics" };

    public Option<bool> Statistics { get; } = new("--statistics") { Description = "restore the statistics" };

    public Option<bool> StatisticsOnly { get; } = new("--statistics-only") { Description = "restore only the statistics, not schema or data" };

    public Option<string?> TransactionSize { get; } = new("--transaction-size") { HelpName = "N", Description = "commit after every N objects" };

    public Option<bool> NoPublications { get; } = new("--no-publications") { Description = "do not restore publications" };

    public Option<bool> NoSubscriptions { get; } = new("--no-subscriptions") { Description = "do not restore subscriptions" };

    public Option<bool> NoSecurityLabels { get; } = new("--no-security-labels") { Description = "do not restore security labels" };

    public Option<bool> NoTablespaces { get; } = new("--no-tablespaces") { Description = "do not restore tablespace assignments" };

    public Option<bool> NoTableAccessMethod { get; } = new("--no-table-access-method") { Description = "do not restore table access methods" };

    public Option<bool> StrictNames { get; } = new("--strict-names") { Description = "require table and/or schema include patterns to match at least one entity each" };

    public Option<bool> NoDataForFailedTables { get; } = new("--no-data-for-failed-tables") { Description = "do not restore data of tables that could not be created" };

    public Option<bool> UseSetSessionAuthorization { get; } = new("--use-set-session-authorization") { Description = "use SET SESSION AUTHORIZATION commands instead of ALTER OWNER commands to set ownership" };

    public Option<bool> EnableRowSecurity { get; } = new("--enable-row-security") { Description = "enable row security" };

    public Option<string?> RestrictKey { get; } = new("--restrict-key") { HelpName = "RESTRICT_KEY", Description = "use provided string as psql \\restrict key" };

    public Option<string?> HostBudget { get; } = new("--host-budget") { HelpName = "N|auto[:MAX]", Description = "most concurrent units on one target host (default: -j); auto: adapt it, up to MAX" };

    public Option<double?> Protect { get; } = new("--protect") { HelpName = "MS", Description = "with --host-budget auto: keep a probe query's p95 latency on the target under MS milliseconds" };

    public Option<string?> ProbeSql { get; } = new("--probe-sql") { HelpName = "SQL", Description = $"the probe query of --protect (default: {AdaptiveBudget.DefaultProbeSql})" };

    public Option<bool> NoAsyncCommit { get; } = new("--no-async-commit") { Description = "units commit with the server's synchronous_commit (default: off inside units; the restore's last commit is synchronous)" };

    public Option<bool> NoCopyFreeze { get; } = new("--no-copy-freeze") { Description = "no COPY FREEZE into tables a unit truncated in its own transaction" };

    public Option<bool> NoKeysAsIndexes { get; } = new("--no-keys-as-indexes") { Description = $"primary keys and unique constraints as one ALTER TABLE each, as pg_restore (default, on tables of more than {ByteSize.Format(Planning.PlanUnit.SmallBytes)} of data: CREATE UNIQUE INDEX beside the table's other indexes, then ADD CONSTRAINT ... USING INDEX)" };

    public Option<bool> NoFkNotValid { get; } = new("--no-fk-not-valid") { Description = $"foreign keys as one ALTER TABLE each, as pg_restore (default, on tables of more than {ByteSize.Format(Planning.PlanUnit.SmallBytes)} of data: ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a transaction of its own)" };

    public Option<bool> SerialPreData { get; } = new("--serial-pre-data") { Description = "run all of pre-data on one session, as pg_restore (default with -j 2 or more: runs of plain tables and sequences are created side by side on the job's sessions)" };

    public Option<string?> SplitLargerThan { get; } = new("--split-larger-than") { HelpName = "SIZE", Description = $"load a table whose data is larger than SIZE (e.g. 64MB) as several chunks at once, on up to -j sessions (default: {ByteSize.Format(Restore.RestoreOptions.DefaultSplitLargerThan)}; none: never)" };

    public Option<bool> Analyze { get; } = new("--analyze") { Description = "analyze each table as soon as its data, indexes and constraints are in, and the rest of the database at the end (as vacuumdb --analyze-only)" };

    public Option<string?> HostMemory { get; } = new("--host-memory") { HelpName = "SIZE", Description = "memory of the target host for index builds: each index or key unit sets maintenance_work_mem to SIZE / host budget (never below the server's)" };

    public Option<bool> Resume { get; } = new("--resume") { Description = "continue an interrupted restore of the same archive into the same target" };

    public Option<string> Progress { get; } = new("--progress") { HelpName = "MODE", Description = "progress display: auto, plain, json or none", DefaultValueFactory = _ => "auto" };

    public Option<int> StallWarning { get; } = new("--stall-warning") { HelpName = "SECONDS", Description = "warn when the restore makes no progress for this long (0: never)", DefaultValueFactory = _ => 300 };

    public Option<string?> LogFile { get; } = new("--log-file") { HelpName = "FILE", Description = "append log records (information and above, with exceptions) to this file instead of warnings on stderr" };

    public Option<string?> Cluster { get; } = Cli.Cluster.ClusterOption.Create();

    private readonly IReadOnlyList<Option<string?>> _tls = Cli.Cluster.ClusterTlsOptions.Create();

    /// <summary>--tls-cert: the cluster's traffic over TLS, with --cluster (ClusterTlsOptions, like --tls-key and --tls-ca).</summary>
    public Option<string?> TlsCert => _tls[0];

    public Option<string?> TlsKey => _tls[1];

    public Option<string?> TlsCa => _tls[2];

    public Option<bool> OtelConsole { get; } = new("--otel-console") { Description = "print telemetry (traces and metrics) to the console" };

    public Argument<string?> Archive { get; } = new("archive") { Description = "the archive file or directory (standard input when absent or -)", Arity = ArgumentArity.ZeroOrOne };

    /// <summary>
    /// Every option under the heading <c>restore --help</c> shows it in: pg_restore's own groups (as its --help
    /// groups them, in its order), then ours. The one list both the parser and the help are made from.
    /// </summary>
    public IReadOnlyList<OptionGroup> Groups => field ??=
    [
        new("General options", [DbName, File, Format, List, Verbose]),
        new("Options controlling the restore",
        [
            DataOnly, Clean, Create, ExitOnError, Index, Jobs, UseList, Schema, ExcludeSchema, NoOwner, Function, SchemaOnly,
            Superuser, Table, Trigger, NoPrivileges, SingleTransaction, DisableTriggers, EnableRowSecurity, Filter, IfExists,
            NoComments, NoData, NoDataForFailedTables, NoPolicies, NoPublications, NoSchema, NoSecurityLabels, NoStatistics,
            NoSubscriptions, NoTableAccessMethod, NoTablespaces, RestrictKey, Section, Statistics, StatisticsOnly, StrictNames,
            TransactionSize, UseSetSessionAuthorization,
        ]),
        new("Connection options", [Host, Port, UserName, NoPassword, Password, Role]),
        new("RestoreCluster options", [HostBudget, Protect, ProbeSql, Analyze, HostMemory, Resume, NoAsyncCommit, NoCopyFreeze, NoKeysAsIndexes, NoFkNotValid, SerialPreData, SplitLargerThan, Progress, StallWarning, LogFile, Cluster, TlsCert, TlsKey, TlsCa, OtelConsole]),
    ];

    public void AddTo(Command command)
    {
        foreach (var group in Groups)
        {
            foreach (var option in group.Options)
            {
                command.Options.Add(option);
            }
        }

        command.Arguments.Add(Archive);
    }
}

/// <summary>A heading of <c>restore --help</c> and the options under it.</summary>
internal sealed record OptionGroup(string Heading, IReadOnlyList<Option> Options);
