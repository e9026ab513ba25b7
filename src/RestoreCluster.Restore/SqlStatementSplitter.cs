namespace RestoreCluster.Restore;

/// <summary>
/// Splits the text of one pg_restore query (a TOC entry's definition may hold several statements) into
/// statements the way the server's lexer sees them, so they can run as one batch: one implicit
/// transaction, like the single simple-Query message pg_restore sends. Follows psql's scanner
/// (psqlscan.l): quotes, E'' strings, dollar quotes, nested comments, parentheses, and the BEGIN ATOMIC
/// bodies of SQL-standard functions (whose inner semicolons do not end the statement).
/// </summary>
internal static class SqlStatementSplitter
{
    public static List<string> Split(string sql, bool standardConformingStrings) =>
        Split(sql, standardConformingStrings, keepTail: true, out _);

    /// <summary>
    /// The statements of <paramref name="sql"/> that a top-level semicolon ends, for text read in pieces:
    /// <paramref name="consumed"/> is where the unfinished rest begins (it goes in front of the next piece).
    /// </summary>
    public static List<string> SplitComplete(string sql, bool standardConformingStrings, out int consumed) =>
        Split(sql, standardConformingStrings, keepTail: false, out consumed);

    private static List<string> Split(string sql, bool standardConformingStrings, bool keepTail, out int consumed)
    {
        var statements = new List<string>();
        int start = 0;
        int parens = 0;
        int beginDepth = 0;
        bool routine = false;
        int wordsInStatement = 0;
        string? firstWord = null;
        int i = 0;
        while (i < sql.Length)
        {
            char c = sql[i];
            if (c == '-' && At(sql, i + 1, '-'))
            {
                int nl = sql.IndexOf('\n', i);
                i = nl < 0 ? sql.Length : nl + 1;
                continue;
            }

            if (c == '/' && At(sql, i + 1, '*'))
            {
                i = SkipBlockComment(sql, i);
                continue;
            }

            if (c == '\'')
            {
                bool escapes = !standardConformingStrings
                    || (i > 0 && sql[i - 1] is 'E' or 'e' && (i < 2 || !IsIdentChar(sql[i - 2])));
                i = SkipQuoted(sql, i, '\'', escapes);
                continue;
            }

            if (c == '"')
            {
                i = SkipQuoted(sql, i, '"', backslashEscapes: false);
                continue;
            }

            if (c == '$' && (i == 0 || !IsIdentChar(sql[i - 1])) && DollarTag(sql, i) is { } tag)
            {
                int close = sql.IndexOf(tag, i + tag.Length, StringComparison.Ordinal);
                i = close < 0 ? sql.Length : close + tag.Length;
                continue;
            }

            if (IsIdentStart(c))
            {
                int end = i;
                while (end < sql.Length && IsIdentChar(sql[end]))
                {
                    end++;
                }

                string word = sql[i..end].ToUpperInvariant();
                wordsInStatement++;
                firstWord ??= word;
                // psqlscan.l: CREATE [OR REPLACE] FUNCTION/PROCEDURE ... BEGIN opens a body that ends at END.
                if (firstWord == "CREATE" && wordsInStatement <= 4 && word is "FUNCTION" or "PROCEDURE")
                {
                    routine = true;
                }
                else if (routine && word == "BEGIN")
                {
                    beginDepth++;
                }
                else if (beginDepth > 0 && word == "CASE")
                {
                    beginDepth++;
                }
                else if (beginDepth > 0 && word == "END")
                {
                    beginDepth--;
                }

                i = end;
                continue;
            }

            if (c == '(')
            {
                parens++;
            }
            else if (c == ')' && parens > 0)
            {
                parens--;
            }
            else if (c == ';' && parens == 0 && beginDepth == 0)
            {
                Add(statements, sql[start..(i + 1)]);
                start = i + 1;
                routine = false;
                wordsInStatement = 0;
                firstWord = null;
            }

            i++;
        }

        consumed = start;
        if (keepTail)
        {
            Add(statements, sql[start..]);
            consumed = sql.Length;
        }

        return statements;
    }

    /// <summary>True when the text holds no statement at all (white space and comments only).</summary>
    public static bool IsEmpty(string sql) => Split(sql, standardConformingStrings: true).Count == 0;

    private static void Add(List<string> statements, string text)
    {
        if (!IsOnlyCommentsOrSpace(text))
        {
            statements.Add(text);
        }
    }

    private static bool IsOnlyCommentsOrSpace(string s)
    {
        int i = 0;
        while (i < s.Length)
        {
            if (char.IsWhiteSpace(s[i]) || s[i] == ';')
            {
                i++;
            }
            else if (s[i] == '-' && At(s, i + 1, '-'))
            {
                int nl = s.IndexOf('\n', i);
                i = nl < 0 ? s.Length : nl + 1;
            }
            else if (s[i] == '/' && At(s, i + 1, '*'))
            {
                i = SkipBlockComment(s, i);
            }
            else
            {
                return false;
            }
        }

        return true;
    }

    private static bool At(string s, int i, char c) => i < s.Length && s[i] == c;

    private static int SkipBlockComment(string s, int i)
    {
        int depth = 0;
        while (i < s.Length)
        {
            if (s[i] == '/' && At(s, i + 1, '*'))
            {
                depth++;
                i += 2;
            }
            else if (s[i] == '*' && At(s, i + 1, '/'))
            {
                depth--;
                i += 2;
                if (depth == 0)
                {
                    return i;
                }
            }
            else
            {
                i++;
            }
        }

        return i;
    }

    private static int SkipQuoted(string s, int i, char quote, bool backslashEscapes)
    {
        i++;
        while (i < s.Length)
        {
            char c = s[i];
            if (backslashEscapes && c == '\\')
            {
                i += 2;
                continue;
            }

            if (c == quote)
            {
                if (At(s, i + 1, quote))
                {
                    i += 2;
                    continue;
                }

                return i + 1;
            }

            i++;
        }

        return i;
    }

    // $tag$ where tag is empty or an identifier that does not start with a digit ($1 is a parameter).
    private static string? DollarTag(string s, int i)
    {
        int j = i + 1;
        if (j < s.Length && char.IsAsciiDigit(s[j]))
        {
            return null;
        }

        while (j < s.Length && IsIdentChar(s[j]) && s[j] != '$')
        {
            j++;
        }

        return j < s.Length && s[j] == '$' ? s[i..(j + 1)] : null;
    }

    private static bool IsIdentStart(char c) => char.IsLetter(c) || c == '_' || c > 127;

    private static bool IsIdentChar(char c) => char.IsLetterOrDigit(c) || c is '_' or '$' || c > 127;
}
