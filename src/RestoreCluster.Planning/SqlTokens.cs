namespace RestoreCluster.Planning;

/// <summary>A forward reader of the SQL tokens of a pg_dump definition (names quoted as fmtId quotes them).</summary>
internal sealed class SqlTokens(string text)
{
    private int _at;

    /// <summary>
    /// Reads the head every constraint definition of pg_dump's has, <c>ALTER TABLE [ONLY] table ADD CONSTRAINT
    /// name</c>, and returns the reader after it, or null when the definition does not start so.
    /// </summary>
    public static (SqlTokens Reader, bool Only, string Table, string Name)? AddConstraint(string? definition)
    {
        if (definition is null)
        {
            return null;
        }

        var p = new SqlTokens(definition);
        if (!p.Keyword("ALTER") || !p.Keyword("TABLE"))
        {
            return null;
        }

        bool only = p.Keyword("ONLY");
        return p.QualifiedName() is { } table && p.Keyword("ADD") && p.Keyword("CONSTRAINT") && p.Identifier() is { } name
            ? (p, only, table, name)
            : null;
    }

    public bool AtEnd
    {
        get
        {
            SkipSpace();
            return _at == text.Length;
        }
    }

    /// <summary>Reads <paramref name="word"/> (any case) as a whole word, or nothing.</summary>
    public bool Keyword(string word)
    {
        SkipSpace();
        int end = WordEnd(_at);
        if (end - _at == word.Length && string.Compare(text, _at, word, 0, word.Length, StringComparison.OrdinalIgnoreCase) == 0)
        {
            _at = end;
            return true;
        }

        return false;
    }

    public bool Symbol(char c)
    {
        SkipSpace();
        if (_at < text.Length && text[_at] == c)
        {
            _at++;
            return true;
        }

        return false;
    }

    /// <summary>A name as fmtId writes it: a double-quoted identifier ("" inside), or a plain word; as written.</summary>
    public string? Identifier()
    {
        SkipSpace();
        int start = _at;
        if (_at < text.Length && text[_at] == '"')
        {
            return SkipQuoted('"') && _at - start > 2 ? text[start.._at] : null;
        }

        int end = WordEnd(_at);
        if (end == _at || char.IsAsciiDigit(text[_at]))
        {
            return null;
        }

        _at = end;
        return text[start..end];
    }

    /// <summary>schema.name (or a bare name), as written.</summary>
    public string? QualifiedName()
    {
        var first = Identifier();
        if (first is null)
        {
            return null;
        }

        if (_at < text.Length && text[_at] == '.')
        {
            _at++;
            return Identifier() is { } second ? first + "." + second : null;
        }

        return first;
    }

    /// <summary>"(a, b, ...)": plain names only, as written.</summary>
    public string? NameList()
    {
        SkipSpace();
        int start = _at;
        if (!Symbol('('))
        {
            return null;
        }

        do
        {
            if (Identifier() is null)
            {
                return null;
            }
        }
        while (Symbol(','));

        return Symbol(')') ? text[start.._at] : null;
    }

    /// <summary>"( ... )" with nested parentheses, quoted strings and quoted names, as written.</summary>
    public string? Parenthesized()
    {
        SkipSpace();
        int start = _at;
        if (_at >= text.Length || text[_at] != '(')
        {
            return null;
        }

        int depth = 0;
        while (_at < text.Length)
        {
            char c = text[_at];
            if (c is '\'' or '"')
            {
                if (!SkipQuoted(c))
                {
                    return null;
                }

                continue;
            }

            _at++;
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
            if (depth == 0)
            {
                return text[start.._at];
            }
        }

        return null;
    }

    /// <summary>
    /// The position of the first semicolon from here outside quotes and parentheses, or -1; the reader moves
    /// past it.
    /// </summary>
    public int NextSemicolon()
    {
        int depth = 0;
        while (_at < text.Length)
        {
            char c = text[_at];
            if (c is '\'' or '"')
            {
                if (!SkipQuoted(c))
                {
                    return -1;
                }

                continue;
            }

            _at++;
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
            if (c == ';' && depth == 0)
            {
                return _at - 1;
            }
        }

        return -1;
    }

    // From an opening quote to past its closing one (a doubled quote is part of the text); false when it never closes.
    private bool SkipQuoted(char quote)
    {
        int i = _at + 1;
        while (i < text.Length)
        {
            if (text[i] == quote)
            {
                if (i + 1 < text.Length && text[i + 1] == quote)
                {
                    i += 2;
                    continue;
                }

                _at = i + 1;
                return true;
            }

            i++;
        }

        return false;
    }

    private void SkipSpace()
    {
        while (_at < text.Length && char.IsWhiteSpace(text[_at]))
        {
            _at++;
        }
    }

    private int WordEnd(int from)
    {
        int end = from;
        while (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] is '_' or '$'))
        {
            end++;
        }

        return end;
    }
}
