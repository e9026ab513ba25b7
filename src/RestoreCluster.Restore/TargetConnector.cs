using Npgsql;
using RestoreCluster.Archive;

namespace RestoreCluster.Restore;

/// <summary>
/// Opens sessions to the target, asking for a password once if the server wants one. A connect that fails
/// for a passing reason (<see cref="ConnectFaults"/>: the server restarting, briefly down, or out of
/// connection slots) is tried again with <see cref="RetryBackoff"/>; each retry is a warning through
/// <c>reportWarning</c> when the caller gives one, and counted in <see cref="Retries"/> and
/// <see cref="RestoreInstruments.ConnectRetries"/>. Messages name the target without its password.
/// </summary>
internal sealed class TargetConnector(
    ConnectionTarget target, ArchiveEncoding encoding, Func<string?>? promptPassword,
    Action<string>? reportWarning = null, RetryBackoff? backoff = null)
{
    private readonly RetryBackoff _backoff = backoff ?? RetryBackoff.Default;
    private ConnectionTarget _target = target;

    /// <summary>Connect attempts made again after a transient failure, over every session this connector opened.</summary>
    public int Retries { get; private set; }

    public NpgsqlConnection Open(string database)
    {
        try
        {
            return Connect(database);
        }
        catch (NpgsqlException e) when (NeedsPassword(e) && _target.Password is null && promptPassword?.Invoke() is { } pw)
        {
            _target = _target.WithPassword(pw);
            return Connect(database);
        }
    }

    private NpgsqlConnection Connect(string database)
    {
        var t = _target.WithDatabase(database);
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return OpenOnce(t);
            }
            catch (ConnectFailed e) when (attempt < _backoff.MaxAttempts)
            {
                var delay = _backoff.DelayAfter(attempt);
                Retries++;
                RestoreInstruments.ConnectRetries.Add(1);
                reportWarning?.Invoke($"{e.Message}; retrying in {delay.TotalMilliseconds:0} ms (attempt {attempt + 1} of {_backoff.MaxAttempts})");
                Thread.Sleep(delay);
            }
            catch (ConnectFailed e)
            {
                throw new RestoreFailedException($"{e.Message}; gave up after {attempt} attempts", e.InnerException!);
            }
        }
    }

    private NpgsqlConnection OpenOnce(ConnectionTarget t)
    {
        // The session speaks the archive's encoding, so names, definitions and COPY bytes pass unchanged.
        string clientEncoding = encoding.Name.ToUpperInvariant() == "UNICODE" ? "UTF8" : encoding.Name;
        CheckTlsFiles(t);
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

            string message = $"connection to server at {t} failed: {Flatten(e)}";
            if (ConnectFaults.IsTransient(e))
            {
                throw new ConnectFailed(message, e);
            }

            throw new RestoreFailedException(message, e);
        }
    }

    // What libpq checks before it connects: a verify mode needs its root certificate file, and the key of a
    // client certificate must be there (Npgsql would fall back to the system's roots, or fail less plainly).
    private static void CheckTlsFiles(ConnectionTarget t)
    {
        var tls = t.Tls;
        if (tls.VerifiesServer && tls.RootCertificate is null)
        {
            throw new RestoreFailedException(
                $"connection to server at {t} failed: root certificate file \"{tls.RootLookedFor}\" does not exist; " +
                "either provide the file or change sslmode to disable server certificate verification");
        }

        if (tls.Mode != SslMode.Disable && tls.Key is { } key && !File.Exists(key))
        {
            throw new RestoreFailedException($"connection to server at {t} failed: certificate present, but not private key file \"{key}\"");
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

    /// <summary>One attempt failed for a reason that may pass (the message is the final error's, minus the count).</summary>
    private sealed class ConnectFailed(string message, Exception inner) : Exception(message, inner);
}
