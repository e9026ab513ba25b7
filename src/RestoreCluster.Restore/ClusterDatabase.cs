using System.Data.Common;
using Npgsql;

namespace RestoreCluster.Restore;

/// <summary>
/// The PostgreSQL database that holds a cluster's membership and state (<c>--cluster CONNSTR</c>, default the
/// <c>RESTORECLUSTER_CLUSTER</c> variable): an Npgsql connection string (<c>Host=…;Username=…;Database=…</c>) or
/// any form <c>-d</c> takes (a database name, a libpq <c>key=value</c> string, a <c>postgres://</c> URI), with the
/// libpq environment filling what is left, as for a target (<see cref="ConnectionTarget"/>). The password is
/// never part of <see cref="ToString"/>.
/// </summary>
public sealed class ClusterDatabase
{
    /// <summary>The environment variable that names the cluster database when <c>--cluster</c> is not given.</summary>
    public const string EnvironmentVariable = "RESTORECLUSTER_CLUSTER";

    // Npgsql's own keywords that libpq does not have: a string holding one of them (with ';') is Npgsql's form.
    private static readonly Dictionary<string, string> NpgsqlToLibpq = new(StringComparer.OrdinalIgnoreCase)
    {
        ["host"] = "host", ["server"] = "host", ["port"] = "port", ["database"] = "dbname", ["db"] = "dbname",
        ["username"] = "user", ["user name"] = "user", ["user id"] = "user", ["userid"] = "user", ["user"] = "user",
        ["password"] = "password", ["psw"] = "password", ["pwd"] = "password", ["passfile"] = "passfile",
        ["ssl mode"] = "sslmode", ["sslmode"] = "sslmode",
    };

    private ClusterDatabase(ConnectionTarget target)
    {
        Target = target;
    }

    /// <summary>The database as a connection target (host, port, user, database, password when given).</summary>
    public ConnectionTarget Target { get; }

    /// <summary>
    /// Resolves <paramref name="value"/> (or, when null, the <c>RESTORECLUSTER_CLUSTER</c> variable); null when
    /// neither names a database. A malformed value is an <see cref="ArgumentException"/> with a one-line message.
    /// </summary>
    public static ClusterDatabase? Resolve(string? value, IReadOnlyDictionary<string, string?>? environment = null)
    {
        string? Env(string name) => environment is not null ? environment.GetValueOrDefault(name) : Environment.GetEnvironmentVariable(name);
        value ??= Env(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        string dbname = IsNpgsqlForm(value) ? ToLibpq(value) : value;
        return new ClusterDatabase(ConnectionTarget.Resolve(dbname, null, null, null, environment));
    }

    /// <summary>
    /// Whether <paramref name="value"/> is an Npgsql connection string: <c>key=value</c> pairs separated by ';'
    /// (libpq separates them with spaces and has no ';').
    /// </summary>
    public static bool IsNpgsqlForm(string value) =>
        !value.StartsWith("postgres://", StringComparison.Ordinal) && !value.StartsWith("postgresql://", StringComparison.Ordinal)
        && value.Contains(';', StringComparison.Ordinal) && value.Contains('=', StringComparison.Ordinal);

    /// <summary>
    /// An Npgsql connection string for the cluster's own sessions (Orleans' providers and ours): pooled, a bounded
    /// connect time so an unreachable cluster fails in seconds. A passfile (PGPASSFILE, passfile=) naming a file
    /// that does not exist is ignored, as libpq ignores it (<see cref="ConnectionTarget.ToNpgsql"/>).
    /// </summary>
    public string ToNpgsql(int connectTimeoutSeconds = 5)
    {
        var b = new NpgsqlConnectionStringBuilder(Target.ToNpgsql("UTF8", "UTF-8", "restorecluster-cluster"))
        {
            Pooling = true,
            Timeout = connectTimeoutSeconds,
            CommandTimeout = 30,
        };
        return b.ConnectionString;
    }

    /// <summary>host:port/dbname as user — safe to print (no password).</summary>
    public override string ToString() => Target.ToString();

    // Npgsql's "Host=h;Username=u;Database=d" as libpq's "host='h' user='u' dbname='d'" (values quoted, so spaces
    // and quotes pass), read with ADO.NET's connection string rules (Npgsql's own), its synonyms mapped.
    private static string ToLibpq(string value)
    {
        var parsed = new DbConnectionStringBuilder();
        try
        {
            parsed.ConnectionString = value;
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"invalid cluster connection string: {FirstLine(e.Message)}");
        }

        var parts = new List<string>();
        foreach (string key in parsed.Keys)
        {
            if (!NpgsqlToLibpq.TryGetValue(key, out string? libpq))
            {
                throw new ArgumentException($"unsupported keyword \"{key}\" in cluster connection string (host, port, database, username, password, passfile, sslmode)");
            }

            string text = Convert.ToString(parsed[key], System.Globalization.CultureInfo.InvariantCulture) ?? "";
            if (libpq == "sslmode")
            {
                // Npgsql names the modes as its SslMode enum does (Require, VerifyFull); libpq as require, verify-full.
                text = text.ToLowerInvariant() switch
                {
                    "verifyca" => "verify-ca",
                    "verifyfull" => "verify-full",
                    var mode => mode,
                };
            }

            parts.Add($"{libpq}='{text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal)}'");
        }

        return string.Join(' ', parts);
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
