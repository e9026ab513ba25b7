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

        if (Values.GetValueOrDefault("sslmode") is { } ssl && Enum.TryParse<SslMode>(ssl.Replace("-", "", StringComparison.Ordinal), ignoreCase: true, out var mode))
        {
            b.SslMode = mode;
        }

        return b.ConnectionString;
    }

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
