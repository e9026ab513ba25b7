namespace RestoreCluster.Planning;

/// <summary>
/// pg_restore's <c>--filter=FILENAME</c> (PostgreSQL 17+): a file of <c>include|exclude OBJECT_TYPE PATTERN</c>
/// lines, read with the rules of src/bin/pg_dump/filter.c (filter_read_item, read_pattern,
/// read_quoted_string) and applied as pg_restore.c read_restore_filters applies them. Every error names the
/// file (or standard input) and the line, in filter.c's words.
/// </summary>
public static class FilterFile
{
    // filter.c get_object_type: the keywords (case-insensitive) and their names in messages.
    private static readonly Dictionary<string, string> ObjectTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["table_data"] = "table data",
        ["table_data_and_children"] = "table data and children",
        ["database"] = "database",
        ["extension"] = "extension",
        ["foreign_data"] = "foreign data",
        ["function"] = "function",
        ["index"] = "index",
        ["schema"] = "schema",
        ["table"] = "table",
        ["table_and_children"] = "table and children",
        ["trigger"] = "trigger",
    };

    /// <summary>
    /// Reads a filter and adds its names to <paramref name="selection"/>'s lists, after the names already there.
    /// <paramref name="fileName"/> is the name messages give; null means standard input.
    /// </summary>
    public static SelectionOptions Apply(TextReader reader, string? fileName, SelectionOptions selection)
    {
        var functions = new List<string>(selection.FunctionNames);
        var indexes = new List<string>(selection.IndexNames);
        var schemas = new List<string>(selection.SchemaNames);
        var excludedSchemas = new List<string>(selection.ExcludeSchemaNames);
        var tables = new List<string>(selection.TableNames);
        var triggers = new List<string>(selection.TriggerNames);
        var state = new Reader(reader, fileName);
        while (state.ReadItem() is { } item)
        {
            // read_restore_filters: what pg_restore can select by, and the object types it refuses.
            var list = (item.Include, item.Type.ToLowerInvariant()) switch
            {
                (true, "function") => functions,
                (true, "index") => indexes,
                (true, "schema") => schemas,
                (true, "table") => tables,
                (true, "trigger") => triggers,
                (false, "schema") => excludedSchemas,
                _ => throw state.Error($"{(item.Include ? "include" : "exclude")} filter for \"{ObjectTypes[item.Type]}\" is not allowed"),
            };
            list.Add(item.Pattern);
        }

        return selection with
        {
            FunctionNames = functions,
            IndexNames = indexes,
            SchemaNames = schemas,
            ExcludeSchemaNames = excludedSchemas,
            TableNames = tables,
            TriggerNames = triggers,
        };
    }

    private sealed record Item(bool Include, string Type, string Pattern);

    private sealed class Reader(TextReader input, string? fileName)
    {
        private int _lineNo;
        private string _line = "";
        private int _pos;

        private char Current => _pos < _line.Length ? _line[_pos] : '\0';

        public PlanningException Error(string message) => new(fileName is null
            ? $"invalid format in filter read from standard input on line {_lineNo}: {message}"
            : $"invalid format in filter read from file \"{fileName}\" on line {_lineNo}: {message}");

        // filter_read_item: one item, or null at the end of the file; comments and empty lines are skipped.
        public Item? ReadItem()
        {
            while (NextLine())
            {
                _lineNo++;
                SkipSpaces();
                if (Current is '\0' or '#')
                {
                    continue;
                }

                string command = Keyword();
                bool include;
                if (command.Equals("include", StringComparison.OrdinalIgnoreCase))
                {
                    include = true;
                }
                else if (command.Equals("exclude", StringComparison.OrdinalIgnoreCase))
                {
                    include = false;
                }
                else
                {
                    throw Error("invalid filter command (expected \"include\" or \"exclude\")");
                }

                string type = Keyword();
                if (type.Length == 0)
                {
                    throw Error("missing filter object type");
                }

                if (!ObjectTypes.ContainsKey(type))
                {
                    throw Error($"unsupported filter object type: \"{type}\"");
                }

                return new Item(include, type, Pattern());
            }

            return null;
        }

        // pg_get_line_buf: the next line with its line end, false at the end of the input.
        private bool NextLine()
        {
            var b = new System.Text.StringBuilder();
            int c;
            while ((c = input.Read()) >= 0)
            {
                b.Append((char)c);
                if (c == '\n')
                {
                    break;
                }
            }

            if (b.Length == 0)
            {
                return false;
            }

            _line = b.ToString();
            _pos = 0;
            return true;
        }

        // isspace in the C locale.
        private static bool IsSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';

        private void SkipSpaces()
        {
            while (IsSpace(Current))
            {
                _pos++;
            }
        }

        // filter_get_keyword: the next run of non-space characters (empty when there is none).
        private string Keyword()
        {
            SkipSpaces();
            int start = _pos;
            while (Current != '\0' && !IsSpace(Current))
            {
                _pos++;
            }

            return _line[start.._pos];
        }

        // read_pattern: the object name with its spaces normalized, quoted parts kept with their quotes, up to
        // the end of the line or a '#' comment.
        private string Pattern()
        {
            var pattern = new System.Text.StringBuilder();
            SkipSpaces();
            if (Current == '\0')
            {
                throw Error("missing object name pattern");
            }

            bool skipSpace = true, foundSpace = false;
            while (Current != '\0' && Current != '#')
            {
                while (Current != '\0' && !IsSpace(Current) && !"#,.()\"".Contains(Current))
                {
                    if (!skipSpace && foundSpace)
                    {
                        pattern.Append(' ');
                        skipSpace = true;
                    }

                    pattern.Append(Current);
                    _pos++;
                }

                skipSpace = false;
                if (Current == '"')
                {
                    if (foundSpace)
                    {
                        pattern.Append(' ');
                    }

                    QuotedString(pattern);
                }
                else if (Current == ',')
                {
                    pattern.Append(", ");
                    skipSpace = true;
                    _pos++;
                }
                else if (Current is '.' or '(' or ')')
                {
                    pattern.Append(Current);
                    skipSpace = true;
                    _pos++;
                }

                foundSpace = false;
                while (IsSpace(Current))
                {
                    foundSpace = true;
                    _pos++;
                }
            }

            return pattern.ToString();
        }

        // read_quoted_string: a double-quoted name, possibly over several lines, kept with its quotes; "" is a
        // quote, \n a line break and \\ a backslash (any other escaped character is dropped, as filter.c does).
        private void QuotedString(System.Text.StringBuilder pattern)
        {
            pattern.Append('"');
            _pos++;
            while (true)
            {
                if (Current is '\r' or '\n')
                {
                    _pos++;
                    continue;
                }

                if (Current == '\0')
                {
                    if (!NextLine())
                    {
                        throw Error("unexpected end of file");
                    }

                    pattern.Append('\n');
                    _lineNo++;
                }

                if (Current == '"')
                {
                    pattern.Append('"');
                    _pos++;
                    if (Current == '"')
                    {
                        pattern.Append('"');
                        _pos++;
                    }
                    else
                    {
                        break;
                    }
                }
                else if (Current == '\\')
                {
                    _pos++;
                    if (Current == 'n')
                    {
                        pattern.Append('\n');
                    }
                    else if (Current == '\\')
                    {
                        pattern.Append('\\');
                    }

                    _pos++;
                }
                else
                {
                    pattern.Append(Current);
                    _pos++;
                }
            }
        }
    }
}
