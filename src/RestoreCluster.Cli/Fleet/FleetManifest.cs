using RestoreCluster.Archive;
using RestoreCluster.Restore;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RestoreCluster.Cli.Fleet;

/// <summary>Where something is in a manifest file: 1-based line and column, as editors count them.</summary>
internal readonly record struct ManifestPosition(int Line, int Column)
{
    public static ManifestPosition Of(YamlNode node) => new((int)node.Start.Line, (int)node.Start.Column);

    public static ManifestPosition Of(Mark mark) => new((int)mark.Line, (int)mark.Column);
}

/// <summary>
/// A target server of the fleet: the most sessions of ours it may have at once (<see cref="Budget"/>; with
/// <c>budget: auto</c> an adaptive budget up to <c>max</c>, <see cref="Adaptive"/>), and a <c>pg_dumpall --globals-only</c>
/// file to run on it once, before its restores.
/// </summary>
internal sealed record ManifestHost(string Host, int Port, int Budget, string? Globals, ManifestPosition At, Grains.Abstractions.AdaptiveBudgetSpec? Adaptive = null)
{
    public string Key => $"{Host}:{Port}";
}

/// <summary>
/// One restore of the fleet: an archive into a target. <see cref="Options"/> are restore's options as the
/// restore runs them: the manifest's <c>defaults.options</c> first, then the restore's own, so its own win.
/// <see cref="Host"/> is the <c>hosts</c> entry its target names (host and port), or null: then its budget is
/// its own <c>-j</c>.
/// </summary>
internal sealed record ManifestRestore(
    string Archive, string Target, ConnectionTarget ResolvedTarget, IReadOnlyList<string> Options, int Priority, ManifestHost? Host, ManifestPosition At);

/// <summary>What a manifest may not be: each problem with its file, line and column.</summary>
internal sealed class ManifestException(IReadOnlyList<string> problems)
    : Exception(problems.Count == 0 ? "invalid manifest" : problems[0])
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>
/// A fleet manifest (docs/fleet.md): many archives into many target servers, with a budget per server. It is
/// read whole and checked before anything is submitted: unknown keys, values of the wrong kind, a missing or
/// unreadable archive or globals file, a target listed twice, a target or options <c>restore</c> would refuse.
/// Every problem is reported as <c>FILE:LINE:COLUMN: what</c>; one problem refuses the whole manifest.
/// </summary>
internal sealed class FleetManifest
{
    private static readonly string[] TopKeys = ["defaults", "hosts", "restores"];
    private static readonly string[] DefaultsKeys = ["options"];
    private static readonly string[] HostKeys = ["host", "port", "budget", "max", "protect", "probe", "globals"];
    private static readonly string[] RestoreKeys = ["archive", "target", "options", "priority"];

    private readonly string _path;
    private readonly List<string> _problems = [];

    private FleetManifest(string path)
    {
        _path = path;
    }

    public string Path => _path;

    public IReadOnlyList<string> DefaultOptions { get; private set; } = [];

    public IReadOnlyList<ManifestHost> Hosts { get; private set; } = [];

    public IReadOnlyList<ManifestRestore> Restores { get; private set; } = [];

    /// <summary>
    /// Reads and checks the manifest at <paramref name="path"/>. <paramref name="checkRestore"/> says what
    /// <c>restore</c> would refuse in one restore's options (null when nothing), given the options, the target
    /// and the archive; <paramref name="environment"/> is the libpq environment targets resolve against.
    /// </summary>
    public static FleetManifest Load(
        string path, Func<IReadOnlyList<string>, string, string, string?> checkRestore, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var manifest = new FleetManifest(path);
        manifest.Read(checkRestore, environment);
        if (manifest._problems.Count > 0)
        {
            throw new ManifestException(manifest._problems);
        }

        return manifest;
    }

    private void Read(Func<IReadOnlyList<string>, string, string, string?> checkRestore, IReadOnlyDictionary<string, string?>? environment)
    {
        YamlStream yaml = new();
        try
        {
            using var reader = new StreamReader(_path);
            yaml.Load(reader);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _problems.Add($"{_path}: cannot read the manifest: {e.Message}");
            return;
        }
        catch (YamlException e)
        {
            Problem(ManifestPosition.Of(e.Start), $"not valid YAML: {e.Message}");
            return;
        }

        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            _problems.Add($"{_path}:1:1: the manifest is empty: it needs a 'restores' list");
            return;
        }

        if (yaml.Documents.Count > 1)
        {
            Problem(ManifestPosition.Of(yaml.Documents[1].RootNode), "a manifest is one YAML document; this is a second one");
        }

        if (Mapping(yaml.Documents[0].RootNode, "the manifest", TopKeys) is not { } top)
        {
            return;
        }

        if (Value(top, "defaults") is { } defaults && Mapping(defaults, "'defaults'", DefaultsKeys) is { } d)
        {
            DefaultOptions = Value(d, "options") is { } o ? Strings(o, "'defaults.options'") : [];
        }

        Hosts = Value(top, "hosts") is { } hosts ? ReadHosts(hosts) : [];
        if (Value(top, "restores") is not { } restores)
        {
            Problem(ManifestPosition.Of(top), "the manifest has no 'restores' list");
            return;
        }

        Restores = ReadRestores(restores, checkRestore, environment);
    }

    private List<ManifestHost> ReadHosts(YamlNode node)
    {
        var hosts = new List<ManifestHost>();
        if (node is not YamlSequenceNode list)
        {
            Problem(ManifestPosition.Of(node), "'hosts' must be a list of hosts");
            return hosts;
        }

        var seen = new Dictionary<string, ManifestPosition>(StringComparer.Ordinal);
        foreach (var item in list)
        {
            if (Mapping(item, "a 'hosts' entry", HostKeys) is not { } h)
            {
                continue;
            }

            string? host = Required(h, "host", "a 'hosts' entry");
            int port = Value(h, "port") is { } p ? Integer(p, "'port'", 1, 65535) ?? 0 : 5432;
            var adaptive = Value(h, "budget") is YamlScalarNode { Value: "auto" } ? Adaptive(h) : null;
            int budget = adaptive?.Max ?? (Value(h, "budget") is { } b ? Integer(b, "'budget'", 1, int.MaxValue) ?? 0 : 0);
            if (Value(h, "budget") is null)
            {
                Problem(ManifestPosition.Of(h), "a 'hosts' entry needs a 'budget' (the most sessions of ours on that server at once)");
            }
            else if (adaptive is null)
            {
                foreach (string key in (string[])["max", "protect", "probe"])
                {
                    if (Value(h, key) is { } extra)
                    {
                        Problem(ManifestPosition.Of(extra), $"'{key}' goes with 'budget: auto'");
                    }
                }
            }

            string? globals = Value(h, "globals") is { } g ? ExistingFile(g, "globals file") : null;
            if (host is null || port == 0 || budget == 0)
            {
                continue;
            }

            var entry = new ManifestHost(host, port, budget, globals, ManifestPosition.Of(h), adaptive);
            if (seen.TryGetValue(entry.Key, out var first))
            {
                Problem(entry.At, $"host {entry.Key} is listed twice (first at line {first.Line})");
                continue;
            }

            seen[entry.Key] = entry.At;
            hosts.Add(entry);
        }

        return hosts;
    }

    private List<ManifestRestore> ReadRestores(
        YamlNode node, Func<IReadOnlyList<string>, string, string, string?> checkRestore, IReadOnlyDictionary<string, string?>? environment)
    {
        var restores = new List<ManifestRestore>();
        if (node is not YamlSequenceNode list || list.Children.Count == 0)
        {
            Problem(ManifestPosition.Of(node), "'restores' must be a list of one restore or more");
            return restores;
        }

        var targets = new Dictionary<string, ManifestPosition>(StringComparer.Ordinal);
        foreach (var item in list)
        {
            if (Mapping(item, "a 'restores' entry", RestoreKeys) is not { } r)
            {
                continue;
            }

            var at = ManifestPosition.Of(r);
            string? archive = Value(r, "archive") is { } a ? ReadableArchive(a) : Missing(at, "archive");
            string? target = Value(r, "target") is { } t ? Text(t, "'target'") : Missing(at, "target");
            IReadOnlyList<string> own = Value(r, "options") is { } o ? Strings(o, "'options'") : [];
            int priority = Value(r, "priority") is { } p ? Integer(p, "'priority'", int.MinValue, int.MaxValue) ?? 0 : 0;
            if (archive is null || target is null)
            {
                continue;
            }

            ConnectionTarget resolved;
            try
            {
                resolved = ConnectionTarget.Resolve(target, null, null, null, environment);
            }
            catch (ArgumentException e)
            {
                Problem(ManifestPosition.Of(Value(r, "target")!), $"invalid target: {e.Message}");
                continue;
            }

            string key = $"{resolved.Host}:{resolved.Port}/{resolved.Database}";
            if (targets.TryGetValue(key, out var first))
            {
                Problem(ManifestPosition.Of(Value(r, "target")!), $"target {key} is listed twice (first at line {first.Line})");
                continue;
            }

            targets[key] = ManifestPosition.Of(Value(r, "target")!);
            IReadOnlyList<string> options = [.. DefaultOptions, .. own];
            if (checkRestore(options, target, archive) is { } refused)
            {
                var where = Value(r, "options") ?? (YamlNode)r;
                Problem(ManifestPosition.Of(where), $"restore would refuse these options: {refused}");
                continue;
            }

            var host = Hosts.FirstOrDefault(h => h.Host == resolved.Host && h.Port == resolved.Port);
            restores.Add(new ManifestRestore(archive, target, resolved, options, priority, host, at));
        }

        return restores;
    }

    private YamlMappingNode? Mapping(YamlNode node, string what, string[] keys)
    {
        if (node is not YamlMappingNode map)
        {
            Problem(ManifestPosition.Of(node), $"{what} must be a mapping of {string.Join(", ", keys.Select(k => $"'{k}'"))}");
            return null;
        }

        foreach (var key in map.Children.Keys)
        {
            string name = (key as YamlScalarNode)?.Value ?? "";
            if (!keys.Contains(name, StringComparer.Ordinal))
            {
                Problem(ManifestPosition.Of(key), $"unknown key '{name}' in {what} (known: {string.Join(", ", keys)})");
            }
        }

        return map;
    }

    // budget: auto with max (needed), protect (milliseconds) and probe (its query, with protect): as --host-budget
    // auto:MAX --protect MS --probe-sql SQL. Null (after saying why) when they are wrong.
    private Grains.Abstractions.AdaptiveBudgetSpec? Adaptive(YamlMappingNode h)
    {
        double protect = 0;
        if (Value(h, "protect") is { } p)
        {
            if (p is YamlScalarNode { Value: { } text }
                && double.TryParse(text, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out double ms) && ms > 0)
            {
                protect = ms;
            }
            else
            {
                Problem(ManifestPosition.Of(p), $"'protect' must be a number of milliseconds above 0, not '{(p as YamlScalarNode)?.Value ?? p.NodeType.ToString()}'");
                return null;
            }
        }

        string? probe = Value(h, "probe") is { } q ? Text(q, "'probe'") : null;
        if (probe is not null && protect == 0)
        {
            Problem(ManifestPosition.Of(Value(h, "probe")!), "'probe' needs 'protect' (the probe guards a latency)");
            return null;
        }

        if (Value(h, "max") is not { } m)
        {
            Problem(ManifestPosition.Of(h), "'budget: auto' needs 'max' (the most sessions of ours on that server at once)");
            return null;
        }

        // With a probe, its session is one of the budget's: at least one more is needed for units.
        return Integer(m, "'max'", protect > 0 ? 2 : 1, int.MaxValue) is { } max ? new(max, protect, probe) : null;
    }

    private static YamlNode? Value(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private string? Required(YamlMappingNode map, string key, string what) =>
        Value(map, key) is { } v ? Text(v, $"'{key}'") : Missing(ManifestPosition.Of(map), key, what);

    private string? Missing(ManifestPosition at, string key, string what = "a 'restores' entry")
    {
        Problem(at, $"{what} needs '{key}'");
        return null;
    }

    private string? Text(YamlNode node, string what)
    {
        if (node is YamlScalarNode { Value: { Length: > 0 } value })
        {
            return value;
        }

        Problem(ManifestPosition.Of(node), $"{what} must be a non-empty string");
        return null;
    }

    private int? Integer(YamlNode node, string what, int min, int max)
    {
        if (node is YamlScalarNode { Value: { } text } && int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int n) && n >= min && n <= max)
        {
            return n;
        }

        string range = min == int.MinValue ? "an integer" : max == int.MaxValue ? $"an integer of at least {min}" : $"an integer from {min} to {max}";
        Problem(ManifestPosition.Of(node), $"{what} must be {range}, not '{(node as YamlScalarNode)?.Value ?? node.NodeType.ToString()}'");
        return null;
    }

    private List<string> Strings(YamlNode node, string what)
    {
        if (node is not YamlSequenceNode list)
        {
            Problem(ManifestPosition.Of(node), $"{what} must be a list of strings, as typed on restore's command line");
            return [];
        }

        var values = new List<string>();
        foreach (var item in list)
        {
            if (item is YamlScalarNode { Value: { } value })
            {
                values.Add(value);
            }
            else
            {
                Problem(ManifestPosition.Of(item), $"{what} must be a list of strings, as typed on restore's command line");
            }
        }

        return values;
    }

    // Relative paths are the manifest's folder's, as in other files that name files (compose files, say).
    private string Resolve(string path) =>
        System.IO.Path.IsPathRooted(path) ? path : System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(_path))!, path));

    private string? ExistingFile(YamlNode node, string what)
    {
        if (Text(node, $"the {what}") is not { } given)
        {
            return null;
        }

        string path = Resolve(given);
        try
        {
            using var stream = File.OpenRead(path);
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Problem(ManifestPosition.Of(node), $"cannot read {what} \"{given}\": {e.Message}");
            return null;
        }
    }

    private string? ReadableArchive(YamlNode node)
    {
        if (Text(node, "'archive'") is not { } given)
        {
            return null;
        }

        string path = Resolve(given);
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            Problem(ManifestPosition.Of(node), $"archive \"{given}\" does not exist");
            return null;
        }

        try
        {
            using var archive = PgArchive.Open(path);
            return path;
        }
        catch (Exception e) when (e is ArchiveException or IOException or UnauthorizedAccessException)
        {
            Problem(ManifestPosition.Of(node), $"archive \"{given}\" cannot be read: {e.Message}");
            return null;
        }
    }

    private void Problem(ManifestPosition at, string what) => _problems.Add($"{_path}:{at.Line}:{at.Column}: {what}");
}
