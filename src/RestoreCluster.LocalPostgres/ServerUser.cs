using System.Runtime.InteropServices;

namespace RestoreCluster.LocalPostgres;

/// <summary>
/// Who runs initdb and the server: the current user, or as root the <c>postgres</c> OS user, because
/// postgres refuses to run as root (main.c: "root" execution of the PostgreSQL server is not permitted).
/// </summary>
public static class ServerUser
{
    public const string PostgresUser = "postgres";

    public static bool IsRoot => Environment.UserName == "root" || GetEuid() == 0;

    /// <summary>The command line that runs <paramref name="tool"/> as the server user: the tool itself, or setpriv as root.</summary>
    public static (string FileName, List<string> Args) Command(string tool, params string[] toolArgs) =>
        IsRoot
            ? ("setpriv", ["--reuid=" + PostgresUser, "--regid=" + PostgresUser, "--init-groups", "--", tool, .. toolArgs])
            : (tool, [.. toolArgs]);

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEuid();
}
