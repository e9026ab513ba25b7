using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using RestoreCluster.Grains;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Restore;
using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>
/// Walks every <c>restore</c> option through each of its views: the command line, <see cref="RestoreOptions"/>,
/// the wire form the grains get (through Orleans' own serializer), and the journal's fingerprint for --resume.
/// A new option fails here until it is classified.
/// </summary>
public sealed class OptionsWalkTests
{
    // Options that are not restore options: where to connect or write, how wide, how to report, how to run.
    // They travel as the job's own fields (jobs, host budget, resume) or stay in the CLI.
    private static readonly string[] NotRestoreOptions =
    [
        "--dbname", "--file", "--format", "--list", "--host", "--port", "--username", "--no-password", "--password",
        "--jobs", "--use-list", "--host-budget", "--protect", "--probe-sql", "--resume", "--progress", "--stall-warning", "--log-file", "--otel-console", "--cluster",
        "--tls-cert", "--tls-key", "--tls-ca",
    ];

    // Restore options that do not change what reaches the target, so --resume may differ in them. --split-larger-than
    // is fingerprinted through the chunks it cuts in an archive (RestoreJournal.For), not as a number: see
    // TheSplitThresholdIsFingerprintedThroughTheChunksItCuts.
    private static readonly string[] NotFingerprinted = ["--verbose", "--restrict-key", "--exit-on-error", "--no-async-commit", "--no-copy-freeze", "--split-larger-than", "--no-keys-as-indexes", "--no-fk-not-valid", "--serial-pre-data", "--analyze", "--host-memory"];

    private static readonly RestoreOptionsSpec Spec = new();

    private static readonly string FilterFile = WriteFilterFile();

    public static TheoryData<string> RestoreOptionNames() =>
        [.. AllOptions().Select(o => o.Name).Where(n => !NotRestoreOptions.Contains(n))];

    [Fact]
    public void EveryOptionIsEitherARestoreOptionOrNamedAsNotOne()
    {
        var names = AllOptions().Select(o => o.Name).ToList();

        Assert.Empty(NotRestoreOptions.Except(names));
        Assert.Empty(NotFingerprinted.Except(names));
        Assert.Equal(names.Count, names.Count(n => !NotRestoreOptions.Contains(n)) + NotRestoreOptions.Length);
    }

    [Theory]
    [MemberData(nameof(RestoreOptionNames))]
    public void ARestoreOptionReachesRestoreOptionsTheWireAndTheFingerprint(string name)
    {
        var option = AllOptions().Single(o => o.Name == name);
        var baseline = Build([]);
        var given = Build(Sample(option));

        string baselineJson = RestoreOptionsJson.Serialize(baseline);
        string givenJson = RestoreOptionsJson.Serialize(given);
        Assert.NotEqual(baselineJson, givenJson);

        var spec = new JobSpec("job-x", "/a.dump", new Dictionary<string, string> { ["Host"] = "h" }, given.ToJobOptions(), null, 2, 2, false);
        var serializer = new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(JobSpec).Assembly)).BuildServiceProvider().GetRequiredService<Serializer>();
        var received = serializer.Deserialize<JobSpec>(serializer.SerializeToArray(spec))!.Options.ToRestoreOptions();
        Assert.Equal(givenJson, RestoreOptionsJson.Serialize(received));

        bool fingerprinted = RestoreOptionsJson.Fingerprint(given) != RestoreOptionsJson.Fingerprint(baseline);
        Assert.Equal(!NotFingerprinted.Contains(name), fingerprinted);
    }

    [Fact]
    public void EqualListsFingerprintAlikeWhateverTheSetOrder()
    {
        var a = new RestoreOptions { Selection = new() { WantedIds = new HashSet<int> { 3, 1, 2 } } };
        var b = new RestoreOptions { Selection = new() { WantedIds = new HashSet<int> { 2, 3, 1 } } };
        var c = new RestoreOptions { Selection = new() { WantedIds = new HashSet<int> { 1, 2 } } };

        Assert.Equal(RestoreOptionsJson.Fingerprint(a), RestoreOptionsJson.Fingerprint(b));
        Assert.NotEqual(RestoreOptionsJson.Fingerprint(a), RestoreOptionsJson.Fingerprint(c));
        Assert.Equal([1, 2, 3], RestoreOptionsJson.Deserialize(RestoreOptionsJson.Serialize(a)).Selection.WantedIds!.Order());
    }

    private static IEnumerable<Option> AllOptions() => Spec.Groups.SelectMany(g => g.Options);

    /// <summary>The option given once with a value that differs from its default.</summary>
    private static string[] Sample(Option option)
    {
        if (option.ValueType == typeof(bool))
        {
            return [option.Name];
        }

        string value = option.Name switch
        {
            "--section" => "data",
            "--restrict-key" => "abc123",
            "--transaction-size" => "5",
            "--split-larger-than" => "4kB",
            "--host-memory" => "1GB",
            // --filter travels as the names it adds (here to -t's list), not as its file name.
            "--filter" => FilterFile,
            _ => "x1",
        };
        return [option.Name, value];
    }

    private static string WriteFilterFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"restorecluster-walk-{Environment.ProcessId}.filter");
        File.WriteAllText(path, "include table x1\n");
        return path;
    }

    private static RestoreOptions Build(string[] args)
    {
        var command = new Command("restore");
        Spec.AddTo(command);
        var parse = command.Parse([.. args, "-d", "db", "archive.dump"]);
        Assert.Empty(parse.Errors);
        return RestoreCommand.BuildOptions(parse, Spec).Item2;
    }
}
