namespace RestoreCluster.Planning;

/// <summary>
/// A foreign key of pg_dump's, restored as <c>ADD CONSTRAINT ... NOT VALID</c> (brief: SHARE ROW EXCLUSIVE on
/// both tables, no scan) in its unit's transaction, then <c>VALIDATE CONSTRAINT</c> in a transaction of its
/// own, whose scan holds only SHARE UPDATE EXCLUSIVE on the table and ROW SHARE on the referenced one: so the
/// referenced table's index builds and the validations of other foreign keys that reference it go on beside it,
/// where pg_restore's one ADD CONSTRAINT would hold them off for its whole scan. If the validation fails, the
/// constraint is dropped (pg_restore would have none) and the failure counts as pg_restore's one error.
/// </summary>
/// <param name="AddNotValid">The definition with <c>NOT VALID</c>.</param>
/// <param name="Validate">The validation.</param>
/// <param name="Drop">What takes the constraint away again when the validation fails.</param>
public sealed record ForeignKey(string AddNotValid, string Validate, string Drop)
{
    /// <summary>
    /// Parses the definition pg_dump writes for a foreign key (pg_dump.c dumpConstraint, with the server's
    /// pg_get_constraintdef), one statement:
    /// <code>
    /// ALTER TABLE [ONLY] schema.table
    ///     ADD CONSTRAINT name FOREIGN KEY (cols) REFERENCES schema.other(cols) [MATCH ...] [ON ...] [DEFERRABLE ...];
    /// </code>
    /// Null for anything else: a constraint already <c>NOT VALID</c> in the archive (it stays as it is), one
    /// <c>NOT ENFORCED</c> (pg_dump 18), or a second statement.
    /// </summary>
    public static ForeignKey? TryParse(string? definition)
    {
        if (SqlTokens.AddConstraint(definition) is not { } head)
        {
            return null;
        }

        var (p, only, table, name) = head;
        if (!p.Keyword("FOREIGN") || !p.Keyword("KEY"))
        {
            return null;
        }

        int semicolon = p.NextSemicolon();
        if (semicolon < 0 || !p.AtEnd)
        {
            return null;
        }

        // NOT VALID already, or NOT ENFORCED (PostgreSQL 18: such a key is never valid, and VALIDATE refuses it).
        string statement = definition![..semicolon].TrimEnd();
        if (EndsWithWords(statement, "NOT", "VALID") || statement.Contains(" NOT ENFORCED", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        string alter = $"ALTER TABLE {(only ? "ONLY " : "")}{table}";
        return new ForeignKey($"{statement} NOT VALID", $"{alter} VALIDATE CONSTRAINT {name}", $"{alter} DROP CONSTRAINT {name}");
    }

    private static bool EndsWithWords(string statement, string first, string second)
    {
        string[] words = statement.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return words.Length >= 2
            && string.Equals(words[^2], first, StringComparison.OrdinalIgnoreCase)
            && string.Equals(words[^1], second, StringComparison.OrdinalIgnoreCase);
    }
}
