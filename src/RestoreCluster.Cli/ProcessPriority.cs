using System.Runtime.InteropServices;

namespace RestoreCluster.Cli;

/// <summary>
/// Under <c>--protect</c> the restoring process yields the CPU to the server's other work (docs/concurrency.md, "Adaptive
/// budgets"): every thread of it is lowered to nice <see cref="ProtectNice"/>, and kept to a quarter of the CPUs it may
/// use (<see cref="ProtectCpus"/>), so that its own work never takes every core of a host it shares with the server.
/// On Linux nice and CPU affinity are a thread's, and a new thread takes its creator's, so changing the threads there
/// are before the embedded silo starts changes the threads it starts too. A thread already nicer is left as it is, and
/// so is one the kernel refuses to change (the restore goes on as it would without --protect's yield); elsewhere than
/// on Linux nothing changes.
/// </summary>
internal static class ProcessPriority
{
    /// <summary>The nice value of a protecting restore's threads (0 is the default; 19 the lowest priority).</summary>
    public const int ProtectNice = 10;

    private const int PrioProcess = 0;

    // A cpu_set_t of 1024 CPUs, glibc's size.
    private const int CpuSetBytes = 128;

    /// <summary>What <c>--protect</c> does to this process: every thread to nice <see cref="ProtectNice"/>, and to <see cref="ProtectCpus"/>.</summary>
    public static void YieldForProtect()
    {
        LowerThreads(ProtectNice);
        KeepToProtectCpus();
    }

    /// <summary>Lowers every thread of this process to at least nice <paramref name="nice"/>.</summary>
    private static void LowerThreads(int nice)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        foreach (int tid in Threads())
        {
            // getpriority returns the nice value, which may be -1: errno tells an error apart.
            Marshal.SetLastPInvokeError(0);
            int current = GetPriority(PrioProcess, tid);
            if ((current == -1 && Marshal.GetLastPInvokeError() != 0) || current >= nice)
            {
                continue;
            }

            SetPriority(PrioProcess, tid, nice);
        }
    }

    /// <summary>
    /// The CPUs a protecting restore keeps to, of the CPUs <paramref name="allowed"/> (ascending): the last quarter of
    /// them, at least one. Priority alone does not protect a live server: two busy processes at nice 19, or SCHED_IDLE, on
    /// a 2-core host made one pgbench transaction in seven slower than 1.5 × its quiet p95, the same two on one core one
    /// in fifty (performance.md, "Adaptive budget", seventh session). The last ones, since the first CPU is usually the
    /// one interrupts go to.
    /// </summary>
    public static IReadOnlyList<int> ProtectCpus(IReadOnlyList<int> allowed)
    {
        ArgumentOutOfRangeException.ThrowIfZero(allowed.Count);
        int keep = Math.Max(1, allowed.Count / 4);
        return allowed.Skip(allowed.Count - keep).ToList();
    }

    /// <summary>
    /// Keeps every thread of this process to <see cref="ProtectCpus"/> of the CPUs it may use now (nothing changes
    /// elsewhere than on Linux, or when the process may use one CPU only).
    /// </summary>
    private static void KeepToProtectCpus()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var mask = new byte[CpuSetBytes];
        if (GetAffinity(0, mask.Length, mask) != 0)
        {
            return;
        }

        var allowed = Enumerable.Range(0, mask.Length * 8).Where(cpu => (mask[cpu / 8] & (1 << (cpu % 8))) != 0).ToList();
        if (allowed.Count < 2)
        {
            return;
        }

        var keep = new byte[CpuSetBytes];
        foreach (int cpu in ProtectCpus(allowed))
        {
            keep[cpu / 8] |= (byte)(1 << (cpu % 8));
        }

        foreach (int tid in Threads())
        {
            SetAffinity(tid, keep.Length, keep);
        }
    }

    private static IEnumerable<int> Threads()
    {
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (int.TryParse(Path.GetFileName(task), out int tid))
            {
                yield return tid;
            }
        }
    }

    [DllImport("libc", EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static extern int GetAffinity(int pid, nint size, byte[] mask);

    [DllImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static extern int SetAffinity(int pid, nint size, byte[] mask);

    [DllImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    private static extern int GetPriority(int which, int who);

    [DllImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static extern int SetPriority(int which, int who, int prio);
}
