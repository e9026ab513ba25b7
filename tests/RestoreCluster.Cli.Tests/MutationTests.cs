using System.Collections.Concurrent;
using System.Diagnostics;
using RestoreCluster.Cli.Tests.Mutation;
using RestoreCluster.Testing;
using Xunit;
using Xunit.Abstractions;

namespace RestoreCluster.Cli.Tests;

/// <summary>
/// Corrupts real archives at thousands of random positions (fixed seed) and restores each to /dev/null:
/// every case must either fail with one <c>restorecluster: error:</c> line and exit 1, or succeed where
/// pg_restore 15 succeeds too. Never an exception, a stack trace or a hang.
/// </summary>
public sealed class MutationTests(ITestOutputHelper output)
{
    // Fixed by default; RESTORECLUSTER_MUTATION_SEED and RESTORECLUSTER_MUTATION_CASES explore further by hand.
    private static readonly int Seed = EnvInt("RESTORECLUSTER_MUTATION_SEED") ?? 20_251_124;
    private static readonly int CasesPerSource = EnvInt("RESTORECLUSTER_MUTATION_CASES") ?? 100;
    private static readonly TimeSpan OurTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PgRestoreTimeout = TimeSpan.FromSeconds(5);

    private enum Outcome
    {
        Rejected,
        AcceptedLikePgRestore,
        AcceptedPgRestoreHungOrCrashed,
        AcceptedNoComparison,
        Hang,
        Exception,
        BadExitCode,
        BadStderr,
        AcceptedButPgRestoreRejects,
    }

    [Fact]
    public async Task CorruptedArchivesFailWithOneLineOrRestoreLikePgRestore()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var sources = BuildSources(fixtures);
        var rng = new Random(Seed);
        var cases = sources.SelectMany(s => Enumerable.Range(0, CasesPerSource).Select(_ => ArchiveMutation.Draw(s, rng))).ToList();

        string root = Directory.CreateTempSubdirectory("restorecluster-mutation-").FullName;
        var counts = new ConcurrentDictionary<Outcome, int>();
        var failures = new ConcurrentQueue<string>();
        var clock = Stopwatch.StartNew();
        try
        {
            await Parallel.ForEachAsync(
                cases.Select((c, i) => (Case: c, Number: i)),
                new ParallelOptions { MaxDegreeOfParallelism = 3 },
                async (item, ct) =>
                {
                    string path = item.Case.Source.Materialize(item.Case, root, item.Number);
                    try
                    {
                        var (outcome, detail) = await RunCaseAsync(item.Case, path);
                        counts.AddOrUpdate(outcome, 1, (_, n) => n + 1);
                        if (outcome >= Outcome.Hang)
                        {
                            failures.Enqueue($"case {item.Number} ({item.Case}): {outcome}: {detail}");
                        }
                    }
                    finally
                    {
                        Delete(path);
                    }
                });
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }

        output.WriteLine($"{cases.Count} cases from {sources.Count} archives (seed {Seed}) in {clock.Elapsed.TotalSeconds:0.0} s");
        foreach (var (outcome, n) in counts.OrderBy(kv => kv.Key))
        {
            output.WriteLine($"  {outcome}: {n}");
        }

        foreach (string f in failures.Take(40))
        {
            output.WriteLine(f);
        }

        Assert.True(cases.Count >= 2000, $"only {cases.Count} cases");
        Assert.True(failures.IsEmpty, $"{failures.Count} failing case(s); first: {failures.FirstOrDefault()}");
    }

    private static async Task<(Outcome, string)> RunCaseAsync(ArchiveMutation mutation, string path)
    {
        var stderr = new StringWriter();
        var io = new CliOutput(() => Stream.Null, stderr, () => Stream.Null);
        var run = Task.Factory.StartNew(
            () => Program.Run(["restore", "-f", "/dev/null", path], io),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        int code;
        try
        {
            code = await run.WaitAsync(OurTimeout);
        }
        catch (TimeoutException)
        {
            return (Outcome.Hang, $"no answer within {OurTimeout.TotalSeconds} s");
        }
        catch (Exception e)
        {
            string frames = string.Join(" <- ", (e.StackTrace ?? "").Split('\n').Take(3).Select(l => l.Trim()));
            return (Outcome.Exception, $"{e.GetType().FullName}: {e.Message} {frames}");
        }

        string err = stderr.ToString();
        if (code == 1)
        {
            // Warnings may come first (e.g. an invalid creation date); the failure itself is one line.
            var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var notWarnings = lines.Where(l => !l.StartsWith("restorecluster: warning: ", StringComparison.Ordinal)).ToList();
            bool ok = notWarnings.Count == 1 && lines[^1] == notWarnings[0]
                && notWarnings[0].StartsWith("restorecluster: error: ", StringComparison.Ordinal)
                && !err.Contains("   at ", StringComparison.Ordinal);
            return ok ? (Outcome.Rejected, "") : (Outcome.BadStderr, err);
        }

        if (code != 0)
        {
            return (Outcome.BadExitCode, $"exit {code}: {err}");
        }

        if (!mutation.Source.ComparePgRestore)
        {
            return (Outcome.AcceptedNoComparison, "");
        }

        var pg = await ProcessRunner.RunAsync(PgRestorePath.Value, ["-f", "/dev/null", path], timeout: PgRestoreTimeout);
        if (pg.TimedOut || pg.ExitCode is not (0 or 1))
        {
            return (Outcome.AcceptedPgRestoreHungOrCrashed, "");
        }

        return pg.ExitCode == 0
            ? (Outcome.AcceptedLikePgRestore, "")
            : (Outcome.AcceptedButPgRestoreRejects, $"we exit 0, pg_restore says: {pg.Stderr.Trim()}");
    }

    private static readonly Lazy<string> PgRestorePath = new(() =>
    {
        // The reference is pg_restore 15: the fixtures are its archive version 1.14.
        string debian = "/usr/lib/postgresql/15/bin/pg_restore";
        return File.Exists(debian) ? debian : "pg_restore";
    });

    private static List<MutationSource> BuildSources(FixtureSet fixtures)
    {
        var sources = new List<MutationSource>();
        foreach (string fixture in fixtures.Fixtures)
        {
            var custom = fixtures.Get(fixture, FixtureArchiveKind.Custom);
            var customSource = MutationSource.ForFile(custom.Name, custom.Path, comparePgRestore: true);
            sources.Add(customSource);
            var z0 = fixtures.Get(fixture, FixtureArchiveKind.CustomUncompressed);
            sources.Add(MutationSource.ForFile(z0.Name, z0.Path, comparePgRestore: true));
            var piped = fixtures.Get(fixture, FixtureArchiveKind.CustomPiped);
            sources.Add(MutationSource.ForFile(piped.Name, piped.Path, comparePgRestore: true, customSource.Files[0].TocRegion));
            var tar = fixtures.Get(fixture, FixtureArchiveKind.Tar);
            sources.Add(MutationSource.ForFile(tar.Name, tar.Path, comparePgRestore: true));
            foreach (var kind in new[] { FixtureArchiveKind.Directory, FixtureArchiveKind.DirectoryUncompressed })
            {
                var dir = fixtures.Get(fixture, kind);
                sources.Add(MutationSource.ForDirectory(dir.Name, dir.Path, comparePgRestore: true));
            }
        }

        // Archive version 1.16 (PostgreSQL 18): no local pg_restore reads these, so only the
        // one-line-error-or-success rule applies.
        string pg18 = RepoPaths.Pg18ArchivesDirectory;
        foreach (string name in new[] { "small18.gzip.dump", "small18.none.dump", "small18.tar" })
        {
            sources.Add(MutationSource.ForFile("pg18/" + name, Path.Combine(pg18, name), comparePgRestore: false));
        }

        foreach (string name in new[] { "small18.gzip.dir", "small18.none.dir" })
        {
            sources.Add(MutationSource.ForDirectory("pg18/" + name, Path.Combine(pg18, name), comparePgRestore: false));
        }

        return sources;
    }

    private static int? EnvInt(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out int v) ? v : null;

    private static void Delete(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
        else
        {
            File.Delete(path);
        }
    }
}
