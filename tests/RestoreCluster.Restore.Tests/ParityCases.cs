using System.Text;

namespace RestoreCluster.Restore.Tests;

/// <summary>What a parity case needs to know about one archive: a schema, a table, a -L list file, its encoding.</summary>
internal sealed record ArchiveFacts(string Schema, string Table, string ListFile, Encoding Encoding);

/// <summary>One pg_restore option set, resolved against the archive it runs on.</summary>
internal sealed record ParityCase(string Name, Func<ArchiveFacts, string[]> Args);

/// <summary>The option sets every fixture archive is restored with, by pg_restore and by us.</summary>
internal static class ParityCases
{
    public const string RestrictKey = "ParityKey42";

    public static readonly IReadOnlyList<ParityCase> All =
    [
        Fixed("none"),
        Fixed("no-owner-no-acl", "-O", "-x"),
        Fixed("clean-if-exists", "-c", "--if-exists"),
        Fixed("clean", "-c"),
        Fixed("schema-only", "-s"),
        Fixed("data-only", "-a"),
        Fixed("section-pre-data", "--section=pre-data"),
        Fixed("section-data", "--section=data"),
        Fixed("section-post-data", "--section=post-data"),
        new("schema", f => ["-n", f.Schema]),
        new("table", f => ["-t", f.Table]),
        new("use-list", f => ["-L", f.ListFile]),
        Fixed("no-comments", "--no-comments"),
        Fixed("create", "-C"),
        Fixed("create-clean-if-exists", "-C", "-c", "--if-exists"),
        Fixed("set-session-authorization", "--use-set-session-authorization"),
        Fixed("single-transaction", "-1"),
        Fixed("data-only-disable-triggers", "-a", "--disable-triggers", "-S", "postgres"),
        Fixed("role", "--role=somerole"),
        Fixed("no-tablespaces-no-am", "--no-tablespaces", "--no-table-access-method"),
        Fixed("enable-row-security", "--enable-row-security"),
        new("exclude-schema", f => ["-N", f.Schema]),
        new("table-data-section", f => ["--section=data", "-t", f.Table]),
        Fixed("no-publications-subscriptions-labels", "--no-publications", "--no-subscriptions", "--no-security-labels"),
        Fixed("clean-if-exists-no-owner-no-acl", "-c", "--if-exists", "-O", "-x"),
        Fixed("schema-only-clean", "-s", "-c"),
        Fixed("single-transaction-clean-if-exists", "-1", "-c", "--if-exists"),
        Fixed("create-clean", "-C", "-c"),
        Fixed("set-session-authorization-clean", "--use-set-session-authorization", "-c"),
        // -v: the script gains TOC comments and its start and end times, stderr pg_restore's messages.
        Fixed("verbose", "-v"),
        Fixed("verbose-create-clean", "-v", "-C", "-c"),
        Fixed("verbose-data-only-disable-triggers", "-v", "-a", "--disable-triggers", "-S", "postgres"),
        Fixed("verbose-section-data", "-v", "--section=data"),
    ];

    public static ParityCase Get(string name) => All.Single(c => c.Name == name);

    public static bool IsVerbose(string name) => name.StartsWith("verbose", StringComparison.Ordinal);

    /// <summary>pg_restore's command line for a case (script to stdout, fixed \restrict key).</summary>
    public static string[] PgRestoreArgs(ParityCase c, ArchiveFacts facts, string archive) =>
        ["-f", "-", "--restrict-key=" + RestrictKey, .. c.Args(facts), archive];

    /// <summary>Ours: the same options after the <c>restore</c> command.</summary>
    public static string[] OurArgs(ParityCase c, ArchiveFacts facts, string archive) =>
        ["restore", .. PgRestoreArgs(c, facts, archive)];

    private static ParityCase Fixed(string name, params string[] args) => new(name, _ => args);
}
