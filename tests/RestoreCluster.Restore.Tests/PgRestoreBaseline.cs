using System.Collections.Concurrent;
using System.Text;
using RestoreCluster.Archive;
using RestoreCluster.Testing;

namespace RestoreCluster.Restore.Tests;

/// <summary>
/// pg_restore's output for every (fixture archive, parity case), computed once per test process with
/// a few pg_restore processes at a time; the first test that asks starts all of them.
/// </summary>
internal static class PgRestoreBaseline
{
    private const int Parallelism = 4;

    private static readonly SemaphoreSlim Slots = new(Parallelism);
    private static readonly ConcurrentDictionary<string, Task<ArchiveFacts>> Facts = new(StringComparer.Ordinal);
    private static readonly Lazy<Task<IReadOnlyDictionary<(string Archive, string Case), Task<ProcessResult>>>> Runs =
        new(StartAllAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    public static async Task<ProcessResult> GetAsync(string archive, string caseName)
    {
        var runs = await Runs.Value;
        return await runs[(archive, caseName)];
    }

    public static Task<ArchiveFacts> FactsAsync(FixtureSet set, FixtureArchive archive) =>
        Facts.GetOrAdd(archive.Name, _ => BuildFactsAsync(set, archive));

    /// <summary>Runs pg_restore against the shared server's environment, at most <see cref="Parallelism"/> at a time.</summary>
    /// <remarks>
    /// pg_restore compares -n/-t names with the archive's bytes, so a name is handed over in the
    /// archive's encoding (through sh's printf, as argv of a .NET child is always UTF-8); we take names
    /// as text in the archive's encoding, which is what a user typing in that encoding means.
    /// </remarks>
    public static async Task<ProcessResult> RunPgRestoreAsync(PostgresServer server, IReadOnlyList<string> args, Encoding? archiveEncoding = null, byte[]? stdin = null)
    {
        await Slots.WaitAsync();
        try
        {
            if (archiveEncoding is null || archiveEncoding.CodePage == Encoding.UTF8.CodePage || args.All(a => a.All(char.IsAscii)))
            {
                return await server.RunToolAsync("pg_restore", args, stdin: stdin, timeout: TimeSpan.FromMinutes(2));
            }

            string script = "exec " + string.Join(' ', new[] { Path.Combine(server.BinDirectory, "pg_restore") }.Concat(args).Select(a => Printf(a, archiveEncoding)));
            return await ProcessRunner.RunAsync("/bin/sh", ["-c", script], server.LibpqEnvironment(), stdin, TimeSpan.FromMinutes(2));
        }
        finally
        {
            Slots.Release();
        }
    }

    // "$(printf '\ooo...')": the exact bytes of the argument in the given encoding.
    private static string Printf(string arg, Encoding encoding) =>
        "\"$(printf '" + string.Concat(encoding.GetBytes(arg).Select(b => "\\" + Convert.ToString(b, 8).PadLeft(3, '0'))) + "')\"";

    private static async Task<IReadOnlyDictionary<(string, string), Task<ProcessResult>>> StartAllAsync()
    {
        var set = await FixtureArchives.GetAsync();
        var runs = new Dictionary<(string, string), Task<ProcessResult>>();
        foreach (var archive in set.Archives)
        {
            foreach (var c in ParityCases.All)
            {
                runs[(archive.Name, c.Name)] = RunCaseAsync(set, archive, c);
            }
        }

        return runs;
    }

    private static async Task<ProcessResult> RunCaseAsync(FixtureSet set, FixtureArchive archive, ParityCase c)
    {
        var facts = await FactsAsync(set, archive);
        return await RunPgRestoreAsync(set.Server, ParityCases.PgRestoreArgs(c, facts, archive.Path), facts.Encoding);
    }

    private static async Task<ArchiveFacts> BuildFactsAsync(FixtureSet set, FixtureArchive archive)
    {
        string schema, table;
        Encoding encoding;
        using (var pg = PgArchive.Open(archive.Path))
        {
            var first = pg.Entries.First(e => e.Desc == "TABLE" && e.Namespace is { Length: > 0 });
            schema = first.Namespace!;
            table = first.Tag;
            encoding = pg.Encoding.Encoding;
        }

        var list = await RunPgRestoreAsync(set.Server, ["-l", archive.Path]);
        list.EnsureSuccess();
        string path = Path.Combine(set.Directory, archive.Name + ".list");
        await File.WriteAllBytesAsync(path, ReorderedSubset(list.Stdout));
        return new ArchiveFacts(schema, table, path, encoding);
    }

    /// <summary>
    /// A -L file from a -l listing: every sixth entry dropped, the second half in reverse order, the
    /// comment header kept, a line that is no entry in the middle and one entry listed twice at the end.
    /// </summary>
    public static byte[] ReorderedSubset(byte[] listing)
    {
        var lines = Encoding.Latin1.GetString(listing).Split('\n');
        var header = lines.Where(l => l.StartsWith(';')).ToList();
        var entries = lines.Where(l => l.Length > 0 && !l.StartsWith(';')).Where((_, i) => i % 6 != 5).ToList();
        int half = entries.Count / 2;
        var reordered = entries.Take(half).ToList();
        reordered.Add("this line names no entry");
        reordered.AddRange(entries.Skip(half).Reverse());
        reordered.Add(entries[0]);
        return Encoding.Latin1.GetBytes(string.Join('\n', header.Concat(reordered)) + "\n");
    }
}
