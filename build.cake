// RestoreCluster build: ./build.sh [--target=Clean|Restore|Build|BuildForTests|Publish|Demo|Test|SlowTest|Bench] [--configuration=Release|Debug]
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

Task("Test")
    .IsDependentOn("BuildForTests")
    .Does(() => RunTests("Category!=Slow"));

Task("SlowTest")
    .IsDependentOn("BuildForTests")
    .Does(() => RunTests("Category=Slow"));

// The restore benchmark (docs/performance.md, "Benchmark: restore against pg_restore"): restorecluster restore
// against pg_restore on generated archives, on a private server. Not part of Test: it takes a long while and
// wants a quiet machine. Always Release, whatever --configuration says: the benchmark runs the Release CLI.
// The report goes to the console; its JSON also to artifacts/bench/restore.json.
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
            .Append("--jobs").Append("1,2")
            .Append("--rounds").Append("3")
            .Append("--json").AppendQuoted(MakeAbsolute(File("./artifacts/bench/restore.json")).FullPath),
        new DotNetRunSettings
        {
            Configuration = "Release",
            NoBuild = true,
            NoRestore = true,
        });
});

RunTarget(target);
