using System.Text;
using Npgsql;
using RestoreCluster.Archive;

namespace RestoreCluster.Restore;

/// <summary>
/// A <c>pg_dumpall --globals-only</c> file (roles, their memberships and settings, tablespaces) run on a target server
/// the way <c>psql -f FILE</c> runs it without ON_ERROR_STOP: statement by statement, each on its own (autocommit), a
/// failing one reported and counted, and the rest run all the same ("role already exists" is the common case).
/// <para>
/// pg_dumpall 15.14+, 16.10+, 17.6+ and 18 write psql meta-commands around the SQL: <c>\restrict KEY</c> first and
/// <c>\unrestrict KEY</c> last, which make psql refuse any other meta-command in between (CVE-2025-8714). They are
/// psql's, not SQL: this reader leaves those two lines out, and refuses a file with any other meta-command (such a
/// line is what \restrict exists to stop), naming its line, instead of sending it to the server.
/// </para>
/// </summary>
public static class GlobalsScript
{
    /// <summary>The SQL statements of the file at <paramref name="path"/>; an <see cref="InvalidDataException"/> names a line psql would not run.</summary>
    public static IReadOnlyList<string> Read(string path) => Parse(File.ReadAllText(path, Encoding.UTF8), path);

    /// <summary>The statements of <paramref name="text"/>, a globals file (named <paramref name="path"/> in messages).</summary>
    public static IReadOnlyList<string> Parse(string text, string path)
    {
        var sql = new StringBuilder(text.Length);
        int number = 0;
        foreach (string line in text.Split('\n'))
        {
            number++;
            // pg_dumpall writes a meta-command at the start of a line of its own; SQL lines never start with a backslash.
            if (line.StartsWith('\\'))
            {
                string command = line.Split(' ', 2)[0].TrimEnd('\r');
                if (command is not (@"\restrict" or @"\unrestrict"))
                {
                    throw new InvalidDataException($"{path}:{number}: psql meta-command {command} in a globals file: only \\restrict and \\unrestrict are understood");
                }

                sql.Append('\n');
                continue;
            }

            sql.Append(line).Append('\n');
        }

        return SqlStatementSplitter.Split(sql.ToString(), standardConformingStrings: true)
            .Where(s => !string.IsNullOrWhiteSpace(StripComments(s)))
            .ToList();
    }

    /// <summary>
    /// Runs <paramref name="statements"/> on one session to <paramref name="target"/>, each in its own transaction;
    /// every failing one goes to <paramref name="error"/> (as <c>psql</c> prints it: the server's message) and is
    /// counted. Returns the count.
    /// </summary>
    public static int Run(IReadOnlyList<string> statements, ConnectionTarget target, Action<string> error, Action<string>? reportWarning = null)
    {
        var connector = new TargetConnector(target, ArchiveEncoding.ForName("UTF8")!, promptPassword: null, reportWarning);
        using var conn = connector.Open(target.Database);
        int errors = 0;
        foreach (string statement in statements)
        {
            using var command = new NpgsqlCommand(statement, conn) { CommandTimeout = 0 };
            try
            {
                command.ExecuteNonQuery();
            }
            catch (PostgresException e)
            {
                errors++;
                error($"{e.Severity}:  {e.MessageText}");
            }
        }

        return errors;
    }

    // A statement that is only comments and blank lines (the file's header, say) is nothing to run.
    private static string StripComments(string statement) =>
        string.Join('\n', statement.Split('\n').Where(l => !l.TrimStart().StartsWith("--", StringComparison.Ordinal)));
}
