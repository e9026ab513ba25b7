using RestoreCluster.Archive;

namespace RestoreCluster.Restore;

/// <summary>psql meta-commands in scripts (fe_utils/string_utils.c appendPsqlMetaConnect, appendConnStrVal).</summary>
internal static class PsqlMeta
{
    // appendPsqlMetaConnect: a plain name as is (through fmtId); anything else as a quoted connection string.
    public static void Connect(SqlBuffer b, byte[] dbname)
    {
        bool complex = false;
        foreach (byte c in dbname)
        {
            if (c is (byte)'\n' or (byte)'\r')
            {
                throw new ArchiveException("database name contains a newline or carriage return");
            }

            if (!(c is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9' or (byte)'_' or (byte)'.'))
            {
                complex = true;
            }
        }

        b.Add("\\connect ");
        if (!complex)
        {
            b.Id(dbname).Add("\n");
            return;
        }

        var conn = new SqlBuffer().Add("dbname=");
        ConnStrValue(conn, dbname);
        b.Add("-reuse-previous=on ").Id(conn.ToArray()).Add("\n");
    }

    // appendConnStrVal: bare when only [A-Za-z0-9_.], else single-quoted with \ and ' escaped.
    private static void ConnStrValue(SqlBuffer b, byte[] value)
    {
        bool plain = value.Length > 0;
        foreach (byte c in value)
        {
            if (!(c is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9' or (byte)'_' or (byte)'.'))
            {
                plain = false;
            }
        }

        if (plain)
        {
            b.Add(value);
            return;
        }

        b.Add("'");
        foreach (byte c in value)
        {
            if (c is (byte)'\\' or (byte)'\'')
            {
                b.Add("\\");
            }

            b.Add([c]);
        }

        b.Add("'");
    }
}
