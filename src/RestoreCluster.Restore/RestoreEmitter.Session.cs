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

        // A failed SET SESSION AUTHORIZATION ends a restore (pg_restore: "use -O instead to skip this").
        _sink.Sql(b.ToArray(), SqlFailure.Fatal);
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
    /// Forgets what the session's user, schema, tablespace and access method are (after a rollback, or a
    /// switch to the login role for the journal): the next entry sets what it needs again.
    /// </summary>
    public void ForgetSessionState()
    {
        _currUser = null;
        _currSchema = null;
        _currTablespace = null;
        _currTableAm = null;
    }

    /// <summary>The --role statement of the fixed settings, or null without --role.</summary>
    public string? RoleStatement() => _options.Role is { } role
        ? _archive.Encoding.Encoding.GetString(new SqlBuffer().Add("SET ROLE ").Id(Bytes(role)).ToArray())
        : null;

    /// <summary>
    /// _reconnectToDB: after CREATE DATABASE (and DATABASE PROPERTIES) the restore continues in a new
    /// session on that database; everything cached about the session is forgotten.
    /// </summary>
    private void ReconnectToDatabase(byte[] dbname)
    {
        if (UnitMode)
        {
            // A unit runs in its session's transaction; other units open their own sessions on the target.
            return;
        }

        _sink.Reconnect(dbname);
        _currUser = null;
        _currSchema = null;
        _currTablespace = null;
        _currTableAm = null;
        SetFixedOutputState();
    }
}
