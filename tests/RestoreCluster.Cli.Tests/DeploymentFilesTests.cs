using System.CommandLine;
using RestoreCluster.Restore;
using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>
/// The deployment files (docker-compose.yml, deploy/Dockerfile, deploy/kubernetes, deploy/systemd) cannot be run
/// here: they are parsed instead, and every restorecluster command line in them must name a command of the CLI's
/// real command tree and parse with its options (docs/deployment.md).
/// </summary>
public sealed class DeploymentFilesTests
{
    public static TheoryData<string> YamlFiles() => [.. DeploymentFiles.YamlFiles()];

    [Theory]
    [MemberData(nameof(YamlFiles))]
    public void EveryYamlFileParses(string file) => Assert.NotEmpty(DeploymentFiles.Load(file));

    [Fact]
    public void EveryRestoreclusterCommandLineInTheDeploymentFilesParsesWithTheRealCommandTree()
    {
        var invocations = DeploymentFiles.All();

        // Each place that runs restorecluster is found, so an empty walk cannot pass.
        Assert.Equal(
            [
                "deploy/Dockerfile CMD", "deploy/kubernetes/cluster-init-job.yaml container cluster-init", "deploy/kubernetes/statefulset.yaml container silo",
                "deploy/systemd/restorecluster-silo.service ExecStart", "docker-compose.yml services.client", "docker-compose.yml services.cluster-init",
                "docker-compose.yml services.silo-1", "docker-compose.yml services.silo-2", "docker-compose.yml services.silo-3",
            ],
            invocations.Select(i => i.Source).Order(StringComparer.Ordinal));
        Assert.All(invocations, i => Assert.Null(Problem(i.Args)));
        Assert.Equal(6, invocations.Count(i => i.Args[0] == "silo"));
        Assert.All(invocations.Where(i => i.Args[0] == "silo" && !i.Source.Contains("client", StringComparison.Ordinal)), i => Assert.Contains("--health-port", i.Args));
    }

    [Theory]
    [InlineData("unknown command", "sillo", "--name", "a")]
    [InlineData("unknown option", "silo", "--health-prot", "8080")]
    [InlineData("bad value", "silo", "--health-port", "eighty")]
    [InlineData("no command", "--name", "a")]
    public void TheCheckFindsAWrongCommandLine(string why, params string[] args) => Assert.True(Problem(args) is not null, why);

    [Fact]
    public void EveryClusterDatabaseTheDeploymentFilesNameIsAValidClusterConnectionString()
    {
        var settings = DeploymentFiles.ClusterSettings().ToList();

        Assert.Contains(settings, s => s.Source == "docker-compose.yml");
        Assert.Contains(settings, s => s.Source.EndsWith("configmap.yaml", StringComparison.Ordinal));
        Assert.All(settings, s =>
        {
            var database = ClusterDatabase.Resolve(s.Value);
            Assert.NotNull(database);
            Assert.DoesNotContain("password", s.Value, StringComparison.OrdinalIgnoreCase);
        });
    }

    [Fact]
    public void TheReadmeKeepsItsTwoSetUpCommandsAndLinksEachDeploymentToItsDoc()
    {
        string readme = File.ReadAllText(Path.Combine(DeploymentFiles.Root, "README.md"));
        var blocks = readme.Split("```")
            .Where((_, i) => i % 2 == 1)
            .ToList();

        var block = Assert.Single(blocks);
        Assert.Equal(["./build.sh --target=Demo", "./build.sh --target=Test"], block.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Skip(1));
        foreach (string section in (string[])["### Docker Compose", "### Kubernetes", "### systemd"])
        {
            string text = readme[readme.IndexOf(section, StringComparison.Ordinal)..];
            int next = text.IndexOf("\n#", section.Length, StringComparison.Ordinal);
            Assert.Contains("(docs/deployment.md", next < 0 ? text : text[..next], StringComparison.Ordinal);
        }
    }

    // Null when the arguments name a command with a handler and parse without errors; else what is wrong.
    private static string? Problem(IReadOnlyList<string> args)
    {
        var io = new CliOutput(() => Stream.Null, new StringWriter(), () => Stream.Null);
        var root = Program.BuildCommands(io, out var handlers);
        var parse = root.Parse([.. args]);
        if (parse.Errors.Count > 0)
        {
            return $"restorecluster {string.Join(' ', args)}: {parse.Errors[0].Message}";
        }

        return handlers.ContainsKey(parse.CommandResult.Command) ? null : $"restorecluster {string.Join(' ', args)}: no command";
    }
}
