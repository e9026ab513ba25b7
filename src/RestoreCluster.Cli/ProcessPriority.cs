using System.Runtime.InteropServices;

namespace RestoreCluster.Cli;

/// <summary>
/// Under <c>--protect</c> the restoring process yields the CPU to the server's other work: every thread of it is lowered
/// to nice <see cref="ProtectNice"/> (docs/concurrency.md, "Adaptive budgets"). On Linux nice is a thread's, and a new
/// thread takes its creator's, so lowering the threads there are before the embedded silo starts lowers the threads
/// it starts too. A thread already nicer is left as it is; elsewhere than on Linux nothing changes.
/// </summary>
internal static class ProcessPriority
{
    /// <summary>The nice value of a protecting restore's threads (0 is the default; 19 the lowest priority).</summary>
    public const int ProtectNice = 10;

    private const int PrioProcess = 0;

    /// <summary>Lowers every thread of this process to at least nice <paramref name="nice"/>; returns the threads lowered.</summary>
    public static int LowerThreads(int nice)
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        int lowered = 0;
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (!int.TryParse(Path.GetFileName(task), out int tid))
            {
                continue;
            }

            // getpriority returns the nice value, which may be -1: errno tells an error apart.
            Marshal.SetLastPInvokeError(0);
            int current = GetPriority(PrioProcess, tid);
            if ((current == -1 && Marshal.GetLastPInvokeError() != 0) || current >= nice)
            {
                continue;
            }

            if (SetPriority(PrioProcess, tid, nice) == 0)
            {
                lowered++;
            }
        }

        return lowered;
    }

    [DllImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    private static extern int GetPriority(int which, int who);

    [DllImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static extern int SetPriority(int which, int who, int prio);
}
