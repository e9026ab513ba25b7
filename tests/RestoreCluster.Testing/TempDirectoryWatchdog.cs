using System.Diagnostics;
using System.Globalization;

namespace RestoreCluster.Testing;

/// <summary>
/// A detached shell that outlives this test process: once the process is gone (the test host can be
/// killed by the runner before or while its exit handlers run), it stops a postmaster still running
/// from the directory and removes the directory. While the process lives it does nothing, so it never
/// races with our own clean-up; it ends by itself once the directory is gone.
/// </summary>
internal static class TempDirectoryWatchdog
{
    // $1 test process pid, $2 postmaster pid at start (or 0: no server), $3 directory. The postmaster is the
    // one its pid file names (a restart changes it), signalled only while that process runs in the data
    // directory (a postmaster's working directory), so a reused pid is never hit.
    private const string Script = """
        while kill -0 "$1" 2>/dev/null && [ -d "$3" ]; do sleep 1; done
        [ -d "$3" ] || exit 0
        pid=$(head -n 1 "$3/data/postmaster.pid" 2>/dev/null)
        if [ "$2" != 0 ] && [ -n "$pid" ] && [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$(cd "$3/data" 2>/dev/null && pwd -P)" ]; then
          kill -QUIT "$pid" 2>/dev/null
          n=0
          while kill -0 "$pid" 2>/dev/null && [ $n -lt 10 ]; do sleep 1; n=$((n + 1)); done
          kill -KILL "$pid" 2>/dev/null
        fi
        rm -rf "$3"
        """;

    // The outer shell starts the watchdog in a new session and exits at once, so the watchdog is no
    // descendant of this process and survives a kill of its process tree.
    private const string Launcher = "setsid \"$0\" -c \"$1\" restorecluster-watchdog \"$2\" \"$3\" \"$4\" </dev/null >/dev/null 2>&1 &";

    public static async Task StartAsync(string directory, int postmasterPid = 0)
    {
        var result = await ProcessRunner.RunAsync(
            "/bin/sh",
            [
                "-c", Launcher, "/bin/sh", Script,
                Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
                postmasterPid.ToString(CultureInfo.InvariantCulture),
                directory,
            ],
            timeout: TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        result.EnsureSuccess();
    }
}
