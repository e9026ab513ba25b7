using System.Text;

namespace RestoreCluster.Restore.Tests;

/// <summary>A short description of where two scripts first differ, for assertion messages.</summary>
internal static class ScriptDiff
{
    public static string? FirstDifference(byte[] expected, byte[] actual)
    {
        if (expected.AsSpan().SequenceEqual(actual))
        {
            return null;
        }

        int at = expected.AsSpan().CommonPrefixLength(actual);
        int lineStart = at;
        while (lineStart > 0 && expected[lineStart - 1] != (byte)'\n')
        {
            lineStart--;
        }

        int line = 1 + expected.AsSpan(0, lineStart).Count((byte)'\n');
        return $"scripts differ at byte {at} (line {line}; expected {expected.Length} bytes, got {actual.Length})\n"
            + $"--- pg_restore:\n{Window(expected, lineStart)}\n--- ours:\n{Window(actual, lineStart)}";
    }

    private static string Window(byte[] bytes, int start)
    {
        int from = start;
        for (int back = 0; back < 3 && from > 0; back++)
        {
            from--;
            while (from > 0 && bytes[from - 1] != (byte)'\n')
            {
                from--;
            }
        }

        int length = Math.Min(bytes.Length - from, 700);
        return Encoding.UTF8.GetString(bytes, from, Math.Max(0, length));
    }
}
