using System.Text;

namespace RestoreCluster.Testing;

/// <summary>
/// The parts of a libpq connection string this harness needs, parsed from either the
/// <c>key=value</c> form or a <c>postgres://</c> / <c>postgresql://</c> URI
/// (https://www.postgresql.org/docs/15/libpq-connect.html#LIBPQ-CONNSTRING).
/// </summary>
public sealed record LibpqConnectionInfo(string Host, int Port, string UserName, string? Password, string? Database, string? SslMode)
{
    public static LibpqConnectionInfo Parse(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var text = connectionString.Trim();
        var values = text.StartsWith("postgres://", StringComparison.Ordinal) || text.StartsWith("postgresql://", StringComparison.Ordinal)
            ? ParseUri(text)
            : ParseKeyValue(text);

        var host = values.GetValueOrDefault("host") ?? values.GetValueOrDefault("hostaddr") ?? "127.0.0.1";
        var portText = values.GetValueOrDefault("port") ?? "5432";
        if (!int.TryParse(portText, out var port) || port is <= 0 or > 65535)
        {
            throw new FormatException($"invalid port '{portText}' in connection string");
        }

        return new LibpqConnectionInfo(
            host,
            port,
            values.GetValueOrDefault("user") ?? "postgres",
            values.GetValueOrDefault("password"),
            values.GetValueOrDefault("dbname"),
            values.GetValueOrDefault("sslmode"));
    }

    private static Dictionary<string, string> ParseKeyValue(string text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var i = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (i >= text.Length)
            {
                return values;
            }

            var keyStart = i;
            while (i < text.Length && text[i] != '=' && !char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            var key = text[keyStart..i];
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (i >= text.Length || text[i] != '=')
            {
                throw new FormatException($"missing '=' after '{key}' in connection string");
            }

            i++;
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            var value = new StringBuilder();
            if (i < text.Length && text[i] == '\'')
            {
                i++;
                while (true)
                {
                    if (i >= text.Length)
                    {
                        throw new FormatException($"unterminated quoted value for '{key}' in connection string");
                    }

                    var c = text[i++];
                    if (c == '\'')
                    {
                        break;
                    }

                    if (c == '\\' && i < text.Length)
                    {
                        c = text[i++];
                    }

                    value.Append(c);
                }
            }
            else
            {
                while (i < text.Length && !char.IsWhiteSpace(text[i]))
                {
                    var c = text[i++];
                    if (c == '\\' && i < text.Length)
                    {
                        c = text[i++];
                    }

                    value.Append(c);
                }
            }

            values[key] = value.ToString();
        }
    }

    private static Dictionary<string, string> ParseUri(string text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var rest = text[(text.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var queryAt = rest.IndexOf('?');
        if (queryAt >= 0)
        {
            foreach (var pair in rest[(queryAt + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=');
                if (eq < 0)
                {
                    throw new FormatException($"invalid URI query parameter '{pair}'");
                }

                values[Uri.UnescapeDataString(pair[..eq])] = Uri.UnescapeDataString(pair[(eq + 1)..]);
            }

            rest = rest[..queryAt];
        }

        var slash = rest.IndexOf('/');
        if (slash >= 0)
        {
            var db = Uri.UnescapeDataString(rest[(slash + 1)..]);
            if (db.Length > 0)
            {
                values.TryAdd("dbname", db);
            }

            rest = rest[..slash];
        }

        var at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            var userInfo = rest[..at];
            rest = rest[(at + 1)..];
            var colon = userInfo.IndexOf(':');
            values.TryAdd("user", Uri.UnescapeDataString(colon >= 0 ? userInfo[..colon] : userInfo));
            if (colon >= 0)
            {
                values.TryAdd("password", Uri.UnescapeDataString(userInfo[(colon + 1)..]));
            }
        }

        // host, [v6]:port or host:port
        string hostPart = rest;
        string? portPart = null;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']');
            hostPart = rest[1..close];
            if (close + 1 < rest.Length && rest[close + 1] == ':')
            {
                portPart = rest[(close + 2)..];
            }
        }
        else if (rest.LastIndexOf(':') is var colonAt and >= 0)
        {
            hostPart = rest[..colonAt];
            portPart = rest[(colonAt + 1)..];
        }

        if (hostPart.Length > 0)
        {
            values.TryAdd("host", Uri.UnescapeDataString(hostPart));
        }

        if (!string.IsNullOrEmpty(portPart))
        {
            values.TryAdd("port", portPart);
        }

        return values;
    }

    /// <summary>Quotes a value for a libpq <c>key=value</c> string.</summary>
    public static string QuoteValue(string value) => "'" + value.Replace("\\", "\\\\").Replace("'", "\\'") + "'";
}
