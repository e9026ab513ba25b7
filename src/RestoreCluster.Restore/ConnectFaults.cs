using System.Net.Sockets;
using Npgsql;

namespace RestoreCluster.Restore;

/// <summary>
/// Which failures to open a session are worth another attempt: the server is restarting, briefly down or
/// full, as opposed to a target that is wrong (bad host name, missing database, failed authentication),
/// which no retry mends.
/// </summary>
internal static class ConnectFaults
{
    /// <summary>True when connecting again a little later may succeed.</summary>
    public static bool IsTransient(Exception e) => e switch
    {
        PostgresException pe => IsTransientSqlState(pe.SqlState),
        SocketException se => IsTransientSocketError(se.SocketErrorCode),
        // Npgsql wraps what failed underneath: the socket (refused, reset), or the stream the server closed
        // during the startup handshake. Its connect timeout (TimeoutException) is not retried: 30 s per
        // attempt is already the wait.
        NpgsqlException { InnerException: SocketException se } => IsTransientSocketError(se.SocketErrorCode),
        NpgsqlException { InnerException: IOException } => true,
        IOException => true,
        _ => false,
    };

    /// <summary>
    /// SQLSTATEs a server sends at connect time while it cannot take the session now (errcodes.txt):
    /// 57P03 cannot_connect_now (starting up, shutting down, in recovery), 53300 too_many_connections,
    /// class 08 connection_exception, and 57P01/57P02 (admin_shutdown, crash_shutdown: a backend
    /// terminated during its authentication by a restart). Not 28000/28P01 (authentication) nor 3D000
    /// (no such database).
    /// </summary>
    public static bool IsTransientSqlState(string sqlState) =>
        sqlState is PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.TooManyConnections
            or PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown
        || sqlState.StartsWith("08", StringComparison.Ordinal);

    // Refused: nothing listens (yet) on the port; AddressNotAvailable: the Unix socket file is gone, as while
    // the postmaster restarts. A name that does not resolve (HostNotFound, TryAgain, NoData) is not retried.
    private static bool IsTransientSocketError(SocketError error) =>
        error is SocketError.ConnectionRefused or SocketError.ConnectionReset or SocketError.ConnectionAborted
            or SocketError.AddressNotAvailable or SocketError.Shutdown or SocketError.NotConnected;
}
