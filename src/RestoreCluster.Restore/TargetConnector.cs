using Npgsql;
using RestoreCluster.Archive;

namespace RestoreCluster.Restore;

/// <summary>Opens sessions to the target, asking for a password once if the server wants one.</summary>
internal sealed class TargetConnector(ConnectionTarget target, ArchiveEncoding encoding, Func<string?>? promptPassword)
{
    private ConnectionTarget _target = target;

    public NpgsqlConnection Open(string database)
    {
        var t = _target.WithDatabase(database);
        try
        {
            return OpenOnce(t);
        }
        catch (NpgsqlException e) when (NeedsPassword(e) && t.Password is null && promptPassword?.Invoke() is { } pw)
        {
            _target = _target.WithPassword(pw);
            return OpenOnce(_target.WithDatabase(database));
        }
    }

    private NpgsqlConnection OpenOnce(ConnectionTarget t)
    {
        // The session speaks the archive's encoding, so names, definitions and COPY bytes pass unchanged.
        string clientEncoding = encoding.Name.ToUpperInvariant() == "UNICODE" ? "UTF8" : encoding.Name;
        var conn = new NpgsqlConnection(t.ToNpgsql(clientEncoding, encoding.Encoding.WebName));
        try
        {
            conn.Open();
            return conn;
        }
        catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            conn.Dispose();
            if (NeedsPassword(e) && t.Password is null && promptPassword is not null)
            {
                throw;
            }

            throw new RestoreFailedException($"connection to server at {t} failed: {Flatten(e)}", e);
        }
    }

    private static bool NeedsPassword(Exception e) =>
        e is PostgresException { SqlState: "28P01" } || (e.Message.Contains("password", StringComparison.OrdinalIgnoreCase) && e is not PostgresException);

    private static string Flatten(Exception e)
    {
        string m = e is PostgresException pe ? $"{pe.Severity}:  {pe.MessageText}" : e.Message;
        if (e.InnerException is { } inner && e is not PostgresException)
        {
            m += ": " + inner.Message;
        }

        return m.Replace('\n', ' ').Replace('\r', ' ');
    }
}
