namespace RestoreCluster.Cli.Demo;

/// <summary>Where two plain-text dumps first differ.</summary>
internal sealed record DumpDifference(long Line, string? Left, string? Right);

/// <summary>Compares two plain <c>pg_dump</c> scripts line by line, streaming (each can be hundreds of MB).</summary>
internal static class DumpComparer
{
    private const int ShownLength = 100;

    /// <summary>Null when the files are equal line for line; otherwise the first line that differs (null: that file ended).</summary>
    public static async Task<DumpDifference?> FirstDifferenceAsync(string left, string right, CancellationToken cancellationToken)
    {
        using var a = new StreamReader(left, new FileStreamOptions { BufferSize = 1 << 16, Options = FileOptions.SequentialScan });
        using var b = new StreamReader(right, new FileStreamOptions { BufferSize = 1 << 16, Options = FileOptions.SequentialScan });
        for (long line = 1; ; line++)
        {
            string? x = await a.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            string? y = await b.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (x is null && y is null)
            {
                return null;
            }

            if (!string.Equals(x, y, StringComparison.Ordinal))
            {
                return new DumpDifference(line, x, y);
            }
        }
    }

    /// <summary>A line as the one-line report shows it: quoted, cut to a readable length, or "end of file".</summary>
    public static string Show(string? line) => line switch
    {
        null => "(end of file)",
        { Length: > ShownLength } => $"\"{line[..ShownLength]}...\"",
        _ => $"\"{line}\"",
    };
}
