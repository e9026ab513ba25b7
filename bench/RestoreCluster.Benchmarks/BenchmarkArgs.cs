using System.Globalization;

namespace RestoreCluster.Benchmarks;

/// <summary>A scenario's <c>--name value</c> options; a value may be a word, an integer or a comma-separated list of integers.</summary>
internal sealed class BenchmarkArgs
{
    private readonly Dictionary<string, string> _values;

    private BenchmarkArgs(Dictionary<string, string> values) => _values = values;

    /// <summary>The options, or null (after saying why on stderr) when one is unknown or has no value.</summary>
    public static BenchmarkArgs? Parse(string[] args, params string[] known)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i += 2)
        {
            if (!known.Contains(args[i]))
            {
                Console.Error.WriteLine($"unknown option {args[i]}");
                return null;
            }

            if (i + 1 == args.Length)
            {
                Console.Error.WriteLine($"option {args[i]} needs a value");
                return null;
            }

            values[args[i]] = args[i + 1];
        }

        return new BenchmarkArgs(values);
    }

    public string? Text(string name) => _values.GetValueOrDefault(name);

    public int Int(string name, int fallback) =>
        _values.TryGetValue(name, out string? value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    public IReadOnlyList<int> Ints(string name, params int[] fallback) =>
        _values.TryGetValue(name, out string? value)
            ? value.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToList()
            : fallback;
}
