using System.Text.Json;
using RestoreCluster.Testing;
using YamlDotNet.RepresentationModel;

namespace RestoreCluster.Cli.Tests;

/// <summary>One <c>restorecluster</c> command line found in a deployment file: where, and its arguments.</summary>
internal sealed record Invocation(string Source, IReadOnlyList<string> Args)
{
    public override string ToString() => $"{Source}: restorecluster {string.Join(' ', Args)}";
}

/// <summary>
/// Reads the deployment files (docker-compose.yml, deploy/) and finds every restorecluster command line in them:
/// compose services and Kubernetes containers that run the image (whose entrypoint is restorecluster, so their
/// command or args are its arguments), the Dockerfile's CMD, and the systemd unit's ExecStart.
/// </summary>
internal static class DeploymentFiles
{
    public const string Image = "restorecluster";

    public static string Root => RepoPaths.RepoRoot;

    /// <summary>Every YAML file of the deployment, relative to the repository root.</summary>
    public static IReadOnlyList<string> YamlFiles() =>
    [
        "docker-compose.yml",
        .. Directory.EnumerateFiles(Path.Combine(Root, "deploy"), "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(Root, f))
            .Order(StringComparer.Ordinal),
    ];

    public static IReadOnlyList<YamlDocument> Load(string relative)
    {
        var stream = new YamlStream();
        using var reader = new StringReader(File.ReadAllText(Path.Combine(Root, relative)));
        stream.Load(reader);
        return [.. stream.Documents];
    }

    public static IReadOnlyList<Invocation> All() =>
        [.. Compose(), .. Kubernetes(), .. Dockerfile(), .. Systemd()];

    public static IEnumerable<Invocation> Compose()
    {
        var root = (YamlMappingNode)Load("docker-compose.yml").Single().RootNode;
        foreach (var (name, node) in ((YamlMappingNode)root["services"]).Children)
        {
            var service = (YamlMappingNode)node;
            string? image = Scalar(Get(service, "image"));
            string? dockerfile = Get(service, "build") is YamlMappingNode build ? Scalar(Get(build, "dockerfile")) : null;
            if (dockerfile == "deploy/Dockerfile" || image?.StartsWith(Image + ":", StringComparison.Ordinal) == true)
            {
                yield return new Invocation($"docker-compose.yml services.{name}", Get(service, "command") is { } command ? Words(command) : DockerfileCmd());
            }
        }
    }

    public static IEnumerable<Invocation> Kubernetes()
    {
        foreach (string file in YamlFiles().Where(f => f.StartsWith(Path.Combine("deploy", "kubernetes"), StringComparison.Ordinal)))
        {
            foreach (var document in Load(file))
            {
                foreach (var container in Containers(document.RootNode))
                {
                    if (Scalar(Get(container, "image")) is { } image && image.StartsWith(Image + ":", StringComparison.Ordinal))
                    {
                        var command = Get(container, "command") is { } c ? Words(c) : [];
                        if (command.Count > 0 && !command[0].EndsWith("/" + Image, StringComparison.Ordinal))
                        {
                            throw new InvalidOperationException($"{file}: container {Scalar(Get(container, "name"))} does not run restorecluster");
                        }

                        var args = Get(container, "args") is { } a ? Words(a) : command.Count == 0 ? DockerfileCmd() : [];
                        yield return new Invocation($"{file} container {Scalar(Get(container, "name"))}", [.. command.Skip(1), .. args]);
                    }
                }
            }
        }
    }

    public static IEnumerable<Invocation> Dockerfile()
    {
        var entrypoint = DockerfileInstruction("ENTRYPOINT");
        if (entrypoint.Count != 1 || !entrypoint[0].EndsWith("/" + Image, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"deploy/Dockerfile: ENTRYPOINT is not restorecluster alone: {string.Join(' ', entrypoint)}");
        }

        yield return new Invocation("deploy/Dockerfile CMD", DockerfileCmd());
    }

    public static IEnumerable<Invocation> Systemd()
    {
        foreach (string file in Directory.EnumerateFiles(Path.Combine(Root, "deploy", "systemd"), "*.service"))
        {
            foreach (string line in File.ReadLines(file).Where(l => l.StartsWith("ExecStart=", StringComparison.Ordinal)))
            {
                var words = line["ExecStart=".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (!words[0].EndsWith("/" + Image, StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"{file}: ExecStart does not run restorecluster: {line}");
                }

                yield return new Invocation($"{Path.GetRelativePath(Root, file)} ExecStart", words[1..]);
            }
        }
    }

    /// <summary>The values a deployment file gives RESTORECLUSTER_CLUSTER (compose environment, Kubernetes ConfigMap).</summary>
    public static IEnumerable<(string Source, string Value)> ClusterSettings()
    {
        foreach (string file in YamlFiles())
        {
            foreach (var document in Load(file))
            {
                foreach (var mapping in Mappings(document.RootNode))
                {
                    if (Scalar(Get(mapping, "RESTORECLUSTER_CLUSTER")) is { } value)
                    {
                        yield return (file, value);
                    }
                }
            }
        }
    }

    // A Dockerfile's exec form is a JSON array.
    private static List<string> DockerfileCmd() => DockerfileInstruction("CMD");

    private static List<string> DockerfileInstruction(string instruction)
    {
        string line = File.ReadLines(Path.Combine(Root, "deploy", "Dockerfile")).Single(l => l.StartsWith(instruction + " ", StringComparison.Ordinal));
        return JsonSerializer.Deserialize<List<string>>(line[(instruction.Length + 1)..])
            ?? throw new InvalidOperationException($"deploy/Dockerfile: {instruction} is not in exec form");
    }

    private static List<string> Words(YamlNode node) => node switch
    {
        YamlSequenceNode sequence => [.. sequence.Children.Select(c => Scalar(c) ?? throw new InvalidOperationException($"not a word: {c}"))],
        YamlScalarNode scalar => [.. (scalar.Value ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)],
        _ => throw new InvalidOperationException($"not a command line: {node}"),
    };

    // A key of the mapping, or of the mapping merged into it with "<<" (compose's shared settings).
    private static YamlNode? Get(YamlMappingNode mapping, string key)
    {
        if (mapping.Children.TryGetValue(new YamlScalarNode(key), out var value))
        {
            return value;
        }

        return mapping.Children.TryGetValue(new YamlScalarNode("<<"), out var merged) && merged is YamlMappingNode parent ? Get(parent, key) : null;
    }

    private static string? Scalar(YamlNode? node) => (node as YamlScalarNode)?.Value;

    private static IEnumerable<YamlMappingNode> Containers(YamlNode node) =>
        Mappings(node).SelectMany(m => Get(m, "containers") is YamlSequenceNode s ? s.Children.OfType<YamlMappingNode>() : []);

    private static IEnumerable<YamlMappingNode> Mappings(YamlNode node)
    {
        if (node is YamlMappingNode mapping)
        {
            yield return mapping;
            foreach (var child in mapping.Children.Values.SelectMany(Mappings))
            {
                yield return child;
            }
        }
        else if (node is YamlSequenceNode sequence)
        {
            foreach (var child in sequence.Children.SelectMany(Mappings))
            {
                yield return child;
            }
        }
    }
}
