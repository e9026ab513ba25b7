using RestoreCluster.Archive;

namespace RestoreCluster.Restore;

internal sealed partial class RestoreEmitter
{
    /// <summary>_becomeOwner: only with --use-set-session-authorization (and not -O).</summary>
    private void BecomeOwner(TocEntry te)
    {
        if (_options.NoOwner || !_options.UseSetSessionAuthorization)
        {
            return;
        }

        BecomeUser(te.GetRaw(TocField.Owner));
    }

    /// <summary>_becomeUser: SET SESSION AUTHORIZATION, skipped when the session already is that user.</summary>
    private void BecomeUser(byte[]? user)
    {
        user ??= [];
        if (_currUser is not null && _currUser.AsSpan().SequenceEqual(user))
        {
            return;
        }

        var b = new SqlBuffer().Add("SET SESSION AUTHORIZATION ");
        if (user.Length > 0)
        {
            b.StringLiteral(user, _archive.StandardConformingStrings);
        }
        else
        {
            b.Add("DEFAULT");
        }

        b.Add(";");
        if (!_sink.IsDatabase)
        {
            b.Add("\n\n");
        }

        Emit(b);
        _currUser = user;
    }

    /// <summary>
    /// _selectOutputSchema: archives with a SEARCHPATH entry (1.13 on) keep the dump's search_path; older
    /// ones get <c>SET search_path = schema, pg_catalog</c> when the schema changes.
    /// </summary>
    private void SelectOutputSchema(byte[]? schema)
    {
        if (_searchPath is not null || schema is not { Length: > 0 }
            || (_currSchema is not null && _currSchema.AsSpan().SequenceEqual(schema)))
        {
            return;
        }

        var b = new SqlBuffer().Add("SET search_path = ").Id(schema);
        if (!schema.AsSpan().SequenceEqual("pg_catalog"u8))
        {
            b.Add(", pg_catalog");
        }

        Emit(b.Add(_sink.IsDatabase ? "" : ";\n\n"));
        _currSchema = schema;
    }

    /// <summary>_selectTablespace: NULL means not applicable; "" is the database default.</summary>
    private void SelectTablespace(byte[]? tablespace)
    {
        if (_options.NoTablespaces || tablespace is null
            || (_currTablespace is not null && _currTablespace.AsSpan().SequenceEqual(tablespace)))
        {
            return;
        }

        var b = new SqlBuffer();
        if (tablespace.Length == 0)
        {
            b.Add("SET default_tablespace = ''");
        }
        else
        {
            b.Add("SET default_tablespace = ").Id(tablespace);
        }

        Emit(b.Add(_sink.IsDatabase ? "" : ";\n\n"));
        _currTablespace = tablespace;
    }

    /// <summary>_selectTableAccessMethod.</summary>
    private void SelectTableAccessMethod(byte[]? tableAm)
    {
        if (_options.NoTableAccessMethod || tableAm is null
            || (_currTableAm is not null && _currTableAm.AsSpan().SequenceEqual(tableAm)))
        {
            return;
        }

        var b = new SqlBuffer().Add("SET default_table_access_method = ").Id(tableAm).Add(";");
        Emit(b.Add(_sink.IsDatabase ? "" : "\n\n"));
        _currTableAm = tableAm;
    }

    /// <summary>
    /// _reconnectToDB: after CREATE DATABASE (and DATABASE PROPERTIES) the script says \connect, leaving
    /// psql's restricted mode around it; everything cached about the session is forgotten.
    /// </summary>
    private void ReconnectToDatabase(byte[] dbname)
    {
        if (!_sink.IsDatabase)
        {
            var b = new SqlBuffer();
            if (_options.RestrictKey is { } key)
            {
                b.Add($"\\unrestrict {key}\n");
            }

            PsqlConnect(b, dbname);
            if (_options.RestrictKey is { } key2)
            {
                b.Add($"\\restrict {key2}\n\n");
            }

            _sink.ScriptOnly(b.ToArray());
        }

        _currUser = null;
        _currSchema = null;
        _currTablespace = null;
        _currTableAm = null;
        SetFixedOutputState();
    }

    // appendPsqlMetaConnect: a plain name as is (through fmtId); anything else as a quoted connection string.
    private static void PsqlConnect(SqlBuffer b, byte[] dbname)
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
        AppendConnStrValue(conn, dbname);
        b.Add("-reuse-previous=on ").Id(conn.ToArray()).Add("\n");
    }

    // appendConnStrVal: bare when only [A-Za-z0-9_.], else single-quoted with \ and ' escaped.
    private static void AppendConnStrValue(SqlBuffer b, byte[] value)
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
