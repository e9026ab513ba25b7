using System.Text;

namespace RestoreCluster.Restore;

/// <summary>libpq connection strings: <c>key=value</c> lists and <c>postgresql://</c> URIs (libpq's conninfo_parse / conninfo_uri_parse).</summary>
public static class ConnectionStrings
{
    /// <summary>Parses <c>key = value key='quoted \' value'</c> as libpq does.</summary>
    public static List<(string Key, string Value)> ParseKeyValue(string s)
    {
        var result = new List<(string, string)>();
        int i = 0;
        while (true)
        {
            while (i < s.Length && char.IsWhiteSpace(s[i]))
            {
                i++;
            }

            if (i >= s.Length)
            {
                return result;
            }

            int keyStart = i;
            while (i < s.Length && s[i] != '=' && !char.IsWhiteSpace(s[i]))
            {
                i++;
            }

            string key = s[keyStart..i];
            while (i < s.Length && char.IsWhiteSpace(s[i]))
            {
                i++;
            }

            if (i >= s.Length || s[i] != '=')
            {
                throw new ArgumentException($"missing \"=\" after \"{key}\" in connection info string");
            }

            i++;
            while (i < s.Length && char.IsWhiteSpace(s[i]))
            {
                i++;
            }

            var value = new StringBuilder();
            if (i < s.Length && s[i] == '\'')
            {
                i++;
                while (true)
                {
                    if (i >= s.Length)
                    {
                        throw new ArgumentException("unterminated quoted string in connection info string");
                    }

                    if (s[i] == '\\' && i + 1 < s.Length)
                    {
                        value.Append(s[i + 1]);
                        i += 2;
                    }
                    else if (s[i] == '\'')
                    {
                        i++;
                        break;
                    }
                    else
                    {
                        value.Append(s[i++]);
                    }
                }
            }
            else
            {
                while (i < s.Length && !char.IsWhiteSpace(s[i]))
                {
                    if (s[i] == '\\' && i + 1 < s.Length)
                    {
                        i++;
                    }

                    value.Append(s[i++]);
                }
            }

            result.Add((key, value.ToString()));
        }
    }

    /// <summary>Parses <c>postgresql://[user[:password]@][host][:port][/dbname][?key=value&amp;...]</c>.</summary>
    public static List<(string Key, string Value)> ParseUri(string uri)
    {
        var result = new List<(string, string)>();
        int schemeEnd = uri.IndexOf("://", StringComparison.Ordinal) + 3;
        string rest = uri[schemeEnd..];
        string? query = null;
        int q = rest.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0)
        {
            query = rest[(q + 1)..];
            rest = rest[..q];
        }

        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        string authority = slash < 0 ? rest : rest[..slash];
        if (slash >= 0 && slash + 1 < rest.Length)
        {
            result.Add(("dbname", Unescape(rest[(slash + 1)..])));
        }

        int at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            string userInfo = authority[..at];
            authority = authority[(at + 1)..];
            int colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            if (colon >= 0)
            {
                result.Add(("user", Unescape(userInfo[..colon])));
                result.Add(("password", Unescape(userInfo[(colon + 1)..])));
            }
            else if (userInfo.Length > 0)
            {
                result.Add(("user", Unescape(userInfo)));
            }
        }

        if (authority.Length > 0)
        {
            string host = authority;
            if (authority.StartsWith('['))
            {
                int close = authority.IndexOf(']', StringComparison.Ordinal);
                host = authority[1..close];
                if (close + 1 < authority.Length && authority[close + 1] == ':')
                {
                    result.Add(("port", authority[(close + 2)..]));
                }
            }
            else
            {
                int colon = authority.LastIndexOf(':');
                if (colon >= 0)
                {
                    host = authority[..colon];
                    result.Add(("port", authority[(colon + 1)..]));
                }
            }

            if (host.Length > 0)
            {
                result.Add(("host", Unescape(host)));
            }
        }

        foreach (string pair in (query ?? "").Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                throw new ArgumentException($"missing key/value separator \"=\" in URI query parameter: \"{pair}\"");
            }

            result.Add((Unescape(pair[..eq]), Unescape(pair[(eq + 1)..])));
        }

        return result;
    }

    private static string Unescape(string s) => Uri.UnescapeDataString(s);
}
