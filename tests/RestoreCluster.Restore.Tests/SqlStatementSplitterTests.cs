using RestoreCluster.Restore;
using Xunit;

namespace RestoreCluster.Restore.Tests;

/// <summary>Definitions are split into statements as the server's lexer sees them.</summary>
public sealed class SqlStatementSplitterTests
{
    [Fact]
    public void SemicolonsInsideQuotesCommentsAndDollarQuotesDoNotSplit()
    {
        string sql = "CREATE TABLE \"a;b\" (x text DEFAULT 'x;y');\n" +
                     "-- comment; still comment\n" +
                     "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END; $body$;\n" +
                     "/* block; /* nested; */ still; */ COMMENT ON TABLE \"a;b\" IS 'it''s; fine';\n";

        var parts = SqlStatementSplitter.Split(sql, standardConformingStrings: true);

        Assert.Equal(3, parts.Count);
        Assert.StartsWith("CREATE TABLE", parts[0], StringComparison.Ordinal);
        Assert.Contains("RETURN 1; END; $body$;", parts[1], StringComparison.Ordinal);
        Assert.Contains("COMMENT ON TABLE", parts[2], StringComparison.Ordinal);
    }

    [Fact]
    public void SplittingInPiecesGivesTheWholeTextsStatementsWhereverThePiecesAreCut()
    {
        string sql = string.Concat(Enumerable.Range(1, 40).Select(i =>
            $"INSERT INTO public.t VALUES ({i}, 'a;{i}\n;b', $q$ ; {i} $q$, E'it\\'s; {i}'); -- c;{i}\n/* x; */\n"));
        var whole = SqlStatementSplitter.Split(sql, standardConformingStrings: true);
        Assert.Equal(40, whole.Count);

        for (int piece = 1; piece <= 97; piece += 8)
        {
            var parts = new List<string>();
            string carry = "";
            for (int at = 0; at < sql.Length; at += piece)
            {
                string text = carry + sql.Substring(at, Math.Min(piece, sql.Length - at));
                parts.AddRange(SqlStatementSplitter.SplitComplete(text, standardConformingStrings: true, out int consumed));
                carry = text[consumed..];
            }

            parts.AddRange(SqlStatementSplitter.Split(carry, standardConformingStrings: true));
            Assert.Equal(whole.Select(p => p.Trim()), parts.Select(p => p.Trim()));
        }
    }

    [Fact]
    public void AnUnfinishedStatementIsLeftForTheNextPiece()
    {
        var parts = SqlStatementSplitter.SplitComplete("INSERT INTO t VALUES (1);\nINSERT INTO t VALUES ('a;", true, out int consumed);
        Assert.Equal(["INSERT INTO t VALUES (1);"], parts);
        Assert.Equal("\nINSERT INTO t VALUES ('a;", "INSERT INTO t VALUES (1);\nINSERT INTO t VALUES ('a;"[consumed..]);
    }

    [Fact]
    public void SqlStandardFunctionBodyStaysOneStatement()
    {
        string sql = "CREATE FUNCTION app.f(x integer) RETURNS integer\n    LANGUAGE sql\n    BEGIN ATOMIC\n SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;\n SELECT 2;\nEND;\nALTER FUNCTION app.f(integer) OWNER TO x;\n";

        var parts = SqlStatementSplitter.Split(sql, standardConformingStrings: true);

        Assert.Equal(2, parts.Count);
        Assert.EndsWith("END;", parts[0].TrimEnd(), StringComparison.Ordinal);
        Assert.StartsWith("\nALTER FUNCTION", parts[1], StringComparison.Ordinal);
    }

    [Fact]
    public void RuleActionsInParenthesesStayOneStatement()
    {
        string sql = "CREATE RULE r AS ON INSERT TO t DO INSTEAD (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\n";

        Assert.Single(SqlStatementSplitter.Split(sql, standardConformingStrings: true));
    }

    [Fact]
    public void BackslashEscapesCountOnlyInEscapeStringsOrWithoutStandardStrings()
    {
        string escape = "SELECT E'a\\';b'; SELECT 2;";
        string standard = "SELECT 'a\\'; SELECT 2;";

        Assert.Equal(2, SqlStatementSplitter.Split(escape, standardConformingStrings: true).Count);
        Assert.Equal(2, SqlStatementSplitter.Split(standard, standardConformingStrings: true).Count);
        Assert.Single(SqlStatementSplitter.Split("SELECT 'a\\'; SELECT 2;'", standardConformingStrings: false));
    }

    [Fact]
    public void CommentOnlyTextHasNoStatement()
    {
        Assert.Empty(SqlStatementSplitter.Split("-- *not* creating schema, since initdb creates it\n\n\n", true));
        Assert.Empty(SqlStatementSplitter.Split("--\n-- PostgreSQL database dump\n--\n\n", true));
        Assert.Single(SqlStatementSplitter.Split("-- load via partition root\nSELECT 1;\n\n", true));
    }

    [Fact]
    public void PositionalParametersAreNotDollarQuotes()
    {
        Assert.Equal(2, SqlStatementSplitter.Split("PREPARE p AS SELECT $1; SELECT $2;", true).Count);
    }
}
