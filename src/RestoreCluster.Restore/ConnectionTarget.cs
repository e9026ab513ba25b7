using System.Text;
using Npgsql;

namespace RestoreCluster.Restore;

/// <summary>
/// Where a restore connects, resolved as libpq resolves pg_restore's options: <c>-d</c> (a database name, a
/// <c>key=value</c> string or a <c>postgres://</c> URI, whose values win over <c>-h/-p/-U</c>), then the
/// libpq environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, PGPASSFILE), then
/// libpq's defaults. The password is never part of <see cref="ToString"/>.
/// </summary>
public sealed class ConnectionTarget
{
    private ConnectionTarget(Dictionary<string, string> values)
    {
        Values = values;
    }

    /// <summary>An empty password file: what Npgsql reads where libpq would read none.</summary>
    public const string NoPasswordFile = "/dev/null";

    /// <summary>The resolved libpq keywords (host, port, user, password, dbname, sslmode, ...).</summary>
    public IReadOnlyDictionary<string, string> Values { get; }

    public string Host => Values.GetValueOrDefault("host") ?? DefaultHost();

    public int Port => int.TryParse(Values.GetValueOrDefault("port"), out int p) ? p : 5432;

    public string User => Values.GetValueOrDefault("user") ?? Environment.UserName;

    public string Database => Values.GetValueOrDefault("dbname") ?? User;

    public string? Password => Values.GetValueOrDefault("password");

    /// <summary>Resolves a target from pg_restore's options and an environment (the process's by default).</summary>
    public static ConnectionTarget Resolve(
        string? dbname, string? host, string? port, string? user, IReadOnlyDictionary<string, string?>? environment = null)
    {
        string? Env(string name) => environment is not null ? environment.GetValueOrDefault(name) : Environment.GetEnvironmentVariable(name);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        void Set(string key, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                values[key] = value;
            }
        }

        Set("host", host);
        Set("port", port);
        Set("user", user);
        if (dbname is not null)
        {
            if (dbname.StartsWith("postgresql://", StringComparison.Ordinal) || dbname.StartsWith("postgres://", StringComparison.Ordinal))
            {
                foreach (var (k, v) in ConnectionStrings.ParseUri(dbname))
                {
                    Set(k, v);
                }
            }
            else if (dbname.Contains('=', StringComparison.Ordinal))
            {
                foreach (var (k, v) in ConnectionStrings.ParseKeyValue(dbname))
                {
                    Set(k, v);
                }
            }
            else
            {
                Set("dbname", dbname);
            }
        }

        foreach (var (key, variable) in new[]
                 {
                     ("host", "PGHOST"), ("port", "PGPORT"), ("user", "PGUSER"), ("password", "PGPASSWORD"),
                     ("dbname", "PGDATABASE"), ("sslmode", "PGSSLMODE"), ("passfile", "PGPASSFILE"),
                     ("sslrootcert", "PGSSLROOTCERT"), ("sslcert", "PGSSLCERT"), ("sslkey", "PGSSLKEY"),
                 })
        {
            if (!values.ContainsKey(key))
            {
                Set(key, Env(variable));
            }
        }

        if (values.TryGetValue("port", out string? p) && !int.TryParse(p, out _))
        {
            throw new ArgumentException($"invalid port number: \"{p}\"");
        }

        if (values.TryGetValue("sslmode", out string? sslmode) && ParseSslMode(sslmode) is null)
        {
            // libpq's own message (fe-connect.c).
            throw new ArgumentException($"invalid sslmode value: \"{sslmode}\"");
        }

        return new ConnectionTarget(values);
    }

    /// <summary>A target from resolved keywords (as <see cref="Values"/> gives them).</summary>
    public static ConnectionTarget FromValues(IReadOnlyDictionary<string, string> values) =>
        new(new Dictionary<string, string>(values, StringComparer.Ordinal));

    /// <summary>The same target with another database (after CREATE DATABASE, -C).</summary>
    public ConnectionTarget WithDatabase(string database) =>
        new(new Dictionary<string, string>(Values, StringComparer.Ordinal) { ["dbname"] = database });

    /// <summary>The same target with a password typed at a prompt.</summary>
    public ConnectionTarget WithPassword(string password) =>
        new(new Dictionary<string, string>(Values, StringComparer.Ordinal) { ["password"] = password });

    /// <summary>An Npgsql connection string; the client encoding follows the archive so bytes pass unchanged.</summary>
    public string ToNpgsql(string clientEncoding, string dotnetEncoding, string applicationName = "restorecluster")
    {
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = Host,
            Port = Port,
            Username = User,
            Database = Database,
            ApplicationName = applicationName,
            ClientEncoding = clientEncoding,
            Encoding = dotnetEncoding,
            Pooling = false,
            Timeout = 30,
            CommandTimeout = 0,
            IncludeErrorDetail = true,
        };
        if (Password is { } pw)
        {
            b.Password = pw;
        }

        // libpq ignores a password file that does not exist (PGPASSFILE or passfile=), and then reads no other;
        // Npgsql would fail on it, so it reads an empty one instead.
        string? passfile = Values.GetValueOrDefault("passfile") ?? Environment.GetEnvironmentVariable("PGPASSFILE");
        if (!string.IsNullOrEmpty(passfile))
        {
            b.Passfile = File.Exists(passfile) ? passfile : NoPasswordFile;
        }

        var tls = Tls;
        b.SslMode = tls.Mode;
        if (tls.Mode != SslMode.Disable)
        {
            if (tls.RootCertificate is { } root)
            {
                b.RootCertificate = root;
            }

            if (tls.Certificate is { } cert)
            {
                b.SslCertificate = cert;
            }

            if (tls.Key is { } key)
            {
                b.SslKey = key;
            }
        }

        return b.ConnectionString;
    }

    /// <summary>
    /// TLS as libpq sets it up (libpq's "SSL Support"): <c>sslmode</c> (default <c>prefer</c>),
    /// <c>sslrootcert</c>, <c>sslcert</c> and <c>sslkey</c> from the target or PGSSLMODE, PGSSLROOTCERT,
    /// PGSSLCERT and PGSSLKEY, else the files <c>~/.postgresql/root.crt</c>, <c>postgresql.crt</c> and
    /// <c>postgresql.key</c> where they exist. As in libpq, <c>require</c> with a root certificate file
    /// verifies the server's chain as <c>verify-ca</c> does.
    /// </summary>
    public TlsSettings Tls
    {
        get
        {
            var mode = ParseSslMode(Values.GetValueOrDefault("sslmode") ?? "prefer") ?? SslMode.Prefer;
            // libpq looks for the root file; one that is not there only matters to the verify modes.
            string? rootNamed = Values.GetValueOrDefault("sslrootcert") ?? DefaultPath("root.crt");
            string? root = rootNamed is not null && File.Exists(rootNamed) ? rootNamed : null;
            if (mode == SslMode.Require && root is not null)
            {
                mode = SslMode.VerifyCA;
            }

            // A client certificate that is not there is not sent (the server may then refuse); its key goes with it.
            string? cert = Existing(Values.GetValueOrDefault("sslcert") ?? DefaultPath("postgresql.crt"));
            string? key = cert is null ? null : Values.GetValueOrDefault("sslkey") ?? DefaultPath("postgresql.key");
            return new TlsSettings(mode, root, rootNamed ?? "~/.postgresql/root.crt", cert, key);
        }
    }

    // libpq's six modes; anything else is refused as libpq refuses it.
    private static SslMode? ParseSslMode(string value) => value switch
    {
        "disable" => SslMode.Disable,
        "allow" => SslMode.Allow,
        "prefer" => SslMode.Prefer,
        "require" => SslMode.Require,
        "verify-ca" => SslMode.VerifyCA,
        "verify-full" => SslMode.VerifyFull,
        _ => null,
    };

    private static string? DefaultPath(string file) =>
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } home ? Path.Combine(home, ".postgresql", file) : null;

    private static string? Existing(string? path) => path is not null && File.Exists(path) ? path : null;

    /// <summary>
    /// The server as the user named it, <c>HOST:PORT</c> (a host name or address, or a socket directory), for
    /// displays: resolved like the connection (-d, -h/-p, the PG environment, the defaults), never the password.
    /// </summary>
    public string HostLabel => $"{Host}:{Port}";

    /// <summary>host:port/dbname as user — safe to print (no password).</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(Host).Append(':').Append(Port).Append('/').Append(Database).Append(" as ").Append(User);
        return sb.ToString();
    }

    // libpq without a host uses the compiled-in socket directory (/var/run/postgresql on Debian).
    private static string DefaultHost()
    {
        foreach (string dir in new[] { "/var/run/postgresql", "/tmp" })
        {
            if (Directory.Exists(dir) && Directory.EnumerateFiles(dir, ".s.PGSQL.*").Any())
            {
                return dir;
            }
        }

        return "localhost";
    }
}

/// <summary>
/// The TLS a session asks for: the mode, the root certificate file (null when the file libpq looks for,
/// <see cref="RootLookedFor"/>, is not there), and the client certificate and its key.
/// </summary>
public sealed record TlsSettings(SslMode Mode, string? RootCertificate, string RootLookedFor, string? Certificate, string? Key)
{
    /// <summary>verify-ca and verify-full check the server's chain against the root certificate file.</summary>
    public bool VerifiesServer => Mode is SslMode.VerifyCA or SslMode.VerifyFull;
}
