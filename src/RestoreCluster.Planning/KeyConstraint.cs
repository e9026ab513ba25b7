using System.Text;

namespace RestoreCluster.Planning;

/// <summary>
/// A primary key or unique constraint of pg_dump's, restored in two steps: its index is built first with
/// <c>CREATE UNIQUE INDEX</c> (SHARE lock: beside the table's other index builds), then attached with
/// <c>ALTER TABLE ... ADD CONSTRAINT ... USING INDEX</c> (a brief ACCESS EXCLUSIVE lock). The catalog is the
/// same as after pg_restore's one <c>ALTER TABLE ... ADD CONSTRAINT</c>: the index gets the constraint's name
/// (USING INDEX renames nothing), and what the statement says beside the columns (INCLUDE, NULLS NOT
/// DISTINCT, WITH, USING INDEX TABLESPACE) goes into the index, which the constraint takes over; DEFERRABLE
/// goes with the attach (it marks the index deferrable). The tablespace pg_dump chose is set per entry
/// (<c>SET default_tablespace</c>) before the definition runs, and CREATE INDEX follows it as ADD CONSTRAINT does.
/// </summary>
/// <param name="CreateIndex">The first statement: builds the index under the constraint's name.</param>
/// <param name="Attach">The second statement: makes the index the constraint.</param>
public sealed record KeyConstraint(string CreateIndex, string Attach)
{
    /// <summary>
    /// Parses the definition pg_dump writes for a PRIMARY KEY or UNIQUE constraint (pg_dump.c dumpConstraint,
    /// one statement):
    /// <code>
    /// ALTER TABLE ONLY schema.table
    ///     ADD CONSTRAINT name PRIMARY KEY|UNIQUE [NULLS NOT DISTINCT] (col, ...) [INCLUDE (col, ...)]
    ///     [WITH (reloptions)] [DEFERRABLE [INITIALLY DEFERRED]];
    /// </code>
    /// (older or hand-made archives may add <c>USING INDEX TABLESPACE ts</c>, leave out ONLY, or spell
    /// INITIALLY IMMEDIATE / NOT DEFERRABLE). Null for anything else, or anything more: exclusion
    /// constraints, a second statement (pg_dump's <c>ALTER TABLE ... CLUSTER ON</c> of a clustered key), a
    /// column list that is not plain names. Those run as pg_dump wrote them.
    /// </summary>
    public static KeyConstraint? TryParse(string? definition)
    {
        if (SqlTokens.AddConstraint(definition) is not { } head)
        {
            return null;
        }

        var (p, only, table, name) = head;

        string kind;
        if (p.Keyword("PRIMARY"))
        {
            if (!p.Keyword("KEY"))
            {
                return null;
            }

            kind = "PRIMARY KEY";
        }
        else if (p.Keyword("UNIQUE"))
        {
            kind = "UNIQUE";
        }
        else
        {
            return null;
        }

        string nulls = "";
        if (p.Keyword("NULLS"))
        {
            nulls = p.Keyword("NOT") ? " NULLS NOT DISTINCT" : " NULLS DISTINCT";
            if (!p.Keyword("DISTINCT"))
            {
                return null;
            }
        }

        if (p.NameList() is not { } columns)
        {
            return null;
        }

        string include = "";
        if (p.Keyword("INCLUDE"))
        {
            if (p.NameList() is not { } included)
            {
                return null;
            }

            include = " INCLUDE " + included;
        }

        string with = "";
        if (p.Keyword("WITH"))
        {
            if (p.Parenthesized() is not { } options)
            {
                return null;
            }

            with = " WITH " + options;
        }

        string tablespace = "";
        if (p.Keyword("USING"))
        {
            if (!p.Keyword("INDEX") || !p.Keyword("TABLESPACE") || p.Identifier() is not { } ts)
            {
                return null;
            }

            tablespace = " TABLESPACE " + ts;
        }

        var timing = new StringBuilder();
        if (p.Keyword("NOT"))
        {
            if (!p.Keyword("DEFERRABLE"))
            {
                return null;
            }

            timing.Append(" NOT DEFERRABLE");
        }
        else if (p.Keyword("DEFERRABLE"))
        {
            timing.Append(" DEFERRABLE");
        }

        if (p.Keyword("INITIALLY"))
        {
            if (p.Keyword("DEFERRED"))
            {
                timing.Append(" INITIALLY DEFERRED");
            }
            else if (p.Keyword("IMMEDIATE"))
            {
                timing.Append(" INITIALLY IMMEDIATE");
            }
            else
            {
                return null;
            }
        }

        if (!p.Symbol(';') || !p.AtEnd)
        {
            return null;
        }

        return new KeyConstraint(
            $"CREATE UNIQUE INDEX {name} ON {table} USING btree {columns}{include}{nulls}{with}{tablespace}",
            $"ALTER TABLE {(only ? "ONLY " : "")}{table} ADD CONSTRAINT {name} {kind} USING INDEX {name}{timing}");
    }

    /// <summary>
    /// A table's definition (pg_dump's CREATE TABLE) makes a partitioned table, on which
    /// <c>ADD CONSTRAINT ... USING INDEX</c> is not supported: pg_dump ends it with <c>)\nPARTITION BY ...;</c>.
    /// </summary>
    public static bool IsPartitionedTable(string? tableDefinition) =>
        tableDefinition is not null && tableDefinition.Contains(")\nPARTITION BY ", StringComparison.Ordinal);
}
