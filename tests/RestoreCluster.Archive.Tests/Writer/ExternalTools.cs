using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;

namespace RestoreCluster.Archive.Tests.Writer;

/// <summary>
/// Runs command-line tools as child processes (stdin → stdout). Compressed payloads in the spec writer
/// come from here, so they are produced independently of any .NET compression code the reader uses.
/// </summary>
internal static class ExternalTools
{
    public const string Lz4 = "/usr/bin/lz4";
    public const string Zstd = "/usr/bin/zstd";
    public const string Gzip = "/bin/gzip";
    public const string Python = "/usr/bin/python3";

    private static readonly ConcurrentDictionary<string, byte[]> Cache = new();

    /// <summary>Runs <paramref name="exe"/> with <paramref name="args"/>, feeding <paramref name="input"/>; returns stdout.</summary>
    public static byte[] Run(string exe, IEnumerable<string> args, byte[] input, string? workingDirectory = null)
    {
        var result = RunRaw(exe, args, input, workingDirectory);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{exe} {string.Join(' ', args)} exited with {result.ExitCode}: {result.StdErr}");
        }

        return result.StdOut;
    }

    public static ToolResult RunRaw(string exe, IEnumerable<string> args, byte[] input, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null)
        {
            psi.WorkingDirectory = workingDirectory;
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["LC_ALL"] = "C.UTF-8";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");
        var outTask = Task.Run(() =>
        {
            using var ms = new MemoryStream();
            p.StandardOutput.BaseStream.CopyTo(ms);
            return ms.ToArray();
        });
        var errTask = p.StandardError.ReadToEndAsync();
        try
        {
            p.StandardInput.BaseStream.Write(input);
            p.StandardInput.Close();
        }
        catch (IOException)
        {
            // the tool may exit before reading all of stdin (e.g. on an error); the exit code tells.
        }

        var stdout = outTask.GetAwaiter().GetResult();
        var stderr = errTask.GetAwaiter().GetResult();
        p.WaitForExit();
        return new ToolResult(p.ExitCode, stdout, stderr);
    }

    /// <summary>
    /// Compresses a whole data stream with an external tool.
    /// <paramref name="gzipFile"/> selects the RFC 1952 gzip file (directory format) instead of the
    /// RFC 1950 zlib stream (custom format) for <see cref="SpecCompression.Gzip"/>.
    /// </summary>
    public static byte[] Compress(SpecCompression compression, byte[] data, bool gzipFile)
    {
        if (compression == SpecCompression.None)
        {
            return data;
        }

        var key = $"{compression}/{gzipFile}/{data.Length}/{Convert.ToHexString(SHA256.HashData(data))}";
        return Cache.GetOrAdd(key, _ => compression switch
        {
            SpecCompression.Gzip when gzipFile => Run(Gzip, ["-c", "-n"], data),
            // zlib stream (78 9c …) with the default level, as pg_dump's deflate with Z_DEFAULT_COMPRESSION.
            SpecCompression.Gzip => Run(Python, ["-c", "import sys,zlib;sys.stdout.buffer.write(zlib.compress(sys.stdin.buffer.read()))"], data),
            SpecCompression.Lz4 => Run(Lz4, ["-c", "-q"], data),
            SpecCompression.Zstd => Run(Zstd, ["-c", "-q"], data),
            _ => throw new ArgumentOutOfRangeException(nameof(compression)),
        });
    }

    /// <summary>Decompresses with the command-line tools (used by tests to check the writer's payloads).</summary>
    public static byte[] Decompress(SpecCompression compression, byte[] data, bool gzipFile) => compression switch
    {
        SpecCompression.None => data,
        SpecCompression.Gzip when gzipFile => Run(Gzip, ["-d", "-c"], data),
        SpecCompression.Gzip => Run(Python, ["-c", "import sys,zlib;sys.stdout.buffer.write(zlib.decompress(sys.stdin.buffer.read()))"], data),
        SpecCompression.Lz4 => Run(Lz4, ["-d", "-c", "-q"], data),
        SpecCompression.Zstd => Run(Zstd, ["-d", "-c", "-q"], data),
        _ => throw new ArgumentOutOfRangeException(nameof(compression)),
    };
}

internal sealed record ToolResult(int ExitCode, byte[] StdOut, string StdErr)
{
    public string StdOutText => System.Text.Encoding.UTF8.GetString(StdOut);
}
