using System.Globalization;
using System.Runtime.InteropServices;
using RestoreCluster.Testing;

namespace RestoreCluster.Benchmarks;

/// <summary>
/// The CPU time (user + sys) the benchmark's private server spends: its postmaster and every process it started
/// (backends, parallel workers, checkpointer, WAL writer, autovacuum), read from <c>/proc</c>. A process that exited
/// counts through its parent's children's times once the postmaster has reaped it, so a reading after a run's
/// sessions are gone holds everything the server did for it. Only for a server on this machine.
/// </summary>
internal sealed class ServerCpu
{
    private readonly int _postmaster;
    private readonly double _tick;

    private ServerCpu(int postmaster)
    {
        _postmaster = postmaster;
        long ticks = SystemConfiguration(ClockTicksName);
        _tick = 1.0 / (ticks > 0 ? ticks : 100);
    }

    /// <summary>The server's postmaster: the parent of a session's backend.</summary>
    public static async Task<ServerCpu> FindAsync(PostgresServer server, CancellationToken cancellationToken)
    {
        int backend = await server.ScalarAsync<int>("postgres", "SELECT pg_backend_pid()", cancellationToken);
        var stat = Read(backend) ?? throw new InvalidOperationException($"the server's backend {backend} is not a process of this machine (/proc/{backend}/stat)");
        return new ServerCpu(stat.Parent);
    }

    /// <summary>Seconds of CPU the server has used so far (its exited processes included once reaped).</summary>
    public double Seconds()
    {
        long ticks = 0;
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            if (Read(pid) is { } stat && (pid == _postmaster || stat.Parent == _postmaster))
            {
                ticks += stat.Ticks;
            }
        }

        return ticks * _tick;
    }

    /// <summary>
    /// Waits until no session of <paramref name="database"/> is left (a client that exited leaves its backend to finish
    /// a moment later), at most 10 s.
    /// </summary>
    public static async Task SessionsGoneAsync(PostgresServer server, string database, CancellationToken cancellationToken)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < until)
        {
            string literal = "'" + database.Replace("'", "''", StringComparison.Ordinal) + "'";
            long left = await server.ScalarAsync<long>("postgres", $"SELECT count(*) FROM pg_stat_activity WHERE datname = {literal}", cancellationToken);
            if (left == 0)
            {
                return;
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    // /proc/PID/stat: "pid (comm) state ppid ... utime stime cutime cstime ..."; comm may hold spaces and parentheses,
    // so the fields are counted from the last ')'. Fields 14-17 (1-based) are the process's and its reaped children's
    // user and system times in clock ticks.
    private static (int Parent, long Ticks)? Read(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        string[] f = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        // f[0] is field 3 (state): field n is f[n - 3].
        long Field(int n) => long.Parse(f[n - 3], CultureInfo.InvariantCulture);
        return ((int)Field(4), Field(14) + Field(15) + Field(16) + Field(17));
    }

    private const int ClockTicksName = 2; // _SC_CLK_TCK

    [DllImport("libc", EntryPoint = "sysconf")]
    private static extern long SystemConfiguration(int name);
}
