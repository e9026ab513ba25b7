using System.Text;
using RestoreCluster.Archive;
using RestoreCluster.Planning;

namespace RestoreCluster.Restore;

/// <summary>
/// Emits a restore exactly as pg_restore does it, to a script or a session (pg_backup_archiver.c
/// RestoreArchive, restore_toc_entry, _printTocEntry and the helpers that cache the session's user,
/// schema, tablespace and table access method). Archives up to 1.14 (pg_dump 15 and older) get pg_restore 15's
/// behaviour, byte for byte; 1.15 and 1.16 archives (pg_dump 16 to 18) get pg_restore 18's, which its code applies
/// to every archive it reads (docs/archive-versions.md).
/// </summary>
internal sealed partial class RestoreEmitter
{
    private readonly PgArchive _archive;
    private readonly RestoreOptions _options;
    private readonly ISqlSink _sink;
    private readonly Dictionary<int, RestoreParts> _reqs;
    private readonly IReadOnlyList<TocEntry> _order;
    private readonly bool _pg18;
    private readonly byte[]? _searchPath;
    private bool _noSchema;
    private readonly bool _impliedDataOnly;
    // --transaction-size: objects emitted since the last COMMIT (pg_restore 17's AH->txnCount).
    private int _txnCount;
    private byte[]? _currUser;
    private byte[]? _currSchema;
    private byte[]? _currTablespace;
    private byte[]? _currTableAm;

    public RestoreEmitter(PgArchive archive, IReadOnlyList<TocEntry> order, RestoreOptions options, ISqlSink sink)
    {
        _archive = archive;
        _order = order;
        _options = options;
        _sink = sink;
        _reqs = EntrySelector.Select(order, archive, options.Selection);
        _pg18 = FollowsPgRestore18(archive);
        _searchPath = archive.Entries.LastOrDefault(e => e.Desc == "SEARCHPATH")?.GetRaw(TocField.Defn);
        _noSchema = !options.Selection.DumpSchema;

        // An archive (or -L list) with no schema part selected is an "implied data-only" restore
        // (pg_restore 18 says "implied no-schema restore" and clears dumpSchema: the same decision).
        if (!_noSchema && ImpliesDataOnly(_order, _reqs))
        {
            _noSchema = true;
            _impliedDataOnly = true;
        }
    }

    /// <summary>
    /// Whether an archive is restored by pg_restore 18's rules (SET transaction_timeout, ALTER VIEW/SEQUENCE/MATERIALIZED
    /// VIEW ... OWNER, -v's wording) rather than pg_restore 15's. Those rules depend on the pg_restore, not on the
    /// archive: a pg_dump 16 archive (1.15) is one only a pg_restore 16 or later reads, and the one we follow is 18's.
    /// </summary>
    public static bool FollowsPgRestore18(PgArchive archive) => archive.Header.Version >= ArchiveVersion.V1_15;

    /// <summary>pg_restore -v's messages (<see cref="VerboseMessages"/>), each without a line end; only with -v.</summary>
    public Action<string>? Info { get; init; }

    /// <summary>Set when entries run as units of a parallel restore (each in a transaction with its journal row).</summary>
    public bool UnitMode { get; init; }

    /// <summary>
    /// Key constraints sent as an index build and an attach instead of their definition (units of a parallel
    /// restore only; the planner gave them an index's locks).
    /// </summary>
    public KeyPlan Keys { get; init; } = KeyPlan.None;

    /// <summary>Counts the archive bytes read for table data (live progress of a unit); null: not counted.</summary>
    public DataReadCounter? DataRead { get; init; }

    /// <summary>
    /// For the next entry only: the chunk of its table's COPY data it loads, when the table is split (a unit sets it
    /// before the entry and clears it after); null: all of it.
    /// </summary>
    public CopyChunkFilter? Chunk { get; set; }

    /// <summary>TABLE entries this session created without error (pg_restore's mark_create_done).</summary>
    public HashSet<int> CreatedTables { get; } = [];

    /// <summary>TABLE DATA entries switched off because their table failed (--no-data-for-failed-tables).</summary>
    public HashSet<int> InhibitedData { get; } = [];

    public RestoreParts PartsOf(TocEntry te) => _reqs[te.DumpId];

    /// <summary>
    /// pg_restore 17's --transaction-size blocks: only a session (or script) this emitter runs whole; units of a
    /// parallel restore have transactions of their own.
    /// </summary>
    private bool TransactionBlocks => _options.TransactionSize > 0 && !UnitMode;

    /// <summary>No entry's schema part is selected (RestoreArchive's "implied data-only restore").</summary>
    internal static bool ImpliesDataOnly(IReadOnlyList<TocEntry> order, IReadOnlyDictionary<int, RestoreParts> reqs) =>
        !order.Any(te => (reqs[te.DumpId] & RestoreParts.Schema) != 0);

    /// <summary>The whole serial restore (RestoreArchive without parallel mode).</summary>
    public void Run()
    {
        Begin();
        RunPasses();
        End();
    }

    /// <summary>The start of a restore: header, -1's BEGIN, the session settings and the -c drop phase.</summary>
    public void Begin(bool dropPhase = true)
    {
        if (_impliedDataOnly)
        {
            Verbose(VerboseMessages.ImpliedDataOnly(_archive));
        }

        var b = new SqlBuffer();
        b.Add("--\n-- PostgreSQL database dump\n--\n\n");
        Text(b);
        if (!_sink.IsDatabase && _options.RestrictKey is { } key)
        {
            _sink.ScriptOnly(Ascii($"\\restrict {key}\n\n"));
        }

        var h = _archive.Header;
        if (h.ServerVersionBytes is { } server)
        {
            b.Add("-- Dumped from database version ").Add(server).Add("\n");
        }

        if (h.DumpVersionBytes is { } dump)
        {
            b.Add("-- Dumped by pg_dump version ").Add(dump).Add("\n");
        }

        b.Add("\n");
        Text(b);
        if (_options.Verbose)
        {
            b.Add($"-- Started on {ArchiveTimestamp.Format(h.Created)}\n\n");
            Text(b);
        }

        if (_options.SingleTransaction)
        {
            _sink.Sql(Ascii("BEGIN;\n\n"));
        }

        SetFixedOutputState();
        if (_options.Clean && dropPhase)
        {
            DropPhase();
        }
    }

    /// <summary>Every selected entry, pass by pass (main, ACL, post-ACL), in TOC order.</summary>
    public void RunPasses()
    {
        bool haveAcl = false, havePostAcl = false;
        foreach (var te in _order)
        {
            if (!_reqs[te.DumpId].IsRestored())
            {
                continue;
            }

            switch (RestorePasses.Of(te))
            {
                case RestorePass.Main:
                    RestoreEntry(te);
                    break;
                case RestorePass.Acl:
                    haveAcl = true;
                    break;
                default:
                    havePostAcl = true;
                    break;
            }
        }

        foreach (var pass in new[] { (haveAcl, RestorePass.Acl), (havePostAcl, RestorePass.PostAcl) })
        {
            if (!pass.Item1)
            {
                continue;
            }

            foreach (var te in _order)
            {
                if (_reqs[te.DumpId].IsRestored() && RestorePasses.Of(te) == pass.Item2)
                {
                    RestoreEntry(te);
                }
            }
        }

    }

    /// <summary>The end of a restore: -1's COMMIT and the closing comments.</summary>
    public void End()
    {
        var b = new SqlBuffer();
        if (_options.Analyze && _sink.IsDatabase)
        {
            // The serial engine analyzes the whole database at the end, inside -1's transaction (docs/restore.md).
            _sink.CurrentEntry = null;
            _sink.Sql(Ascii(AnalyzeSql.Rest([])));
        }

        if (_options.SingleTransaction || TransactionBlocks)
        {
            _sink.Sql(Ascii("COMMIT;\n\n"));
        }

        if (_options.Verbose)
        {
            b.Add($"-- Completed on {ArchiveTimestamp.Now()}\n\n");
            Text(b);
        }

        b.Add("--\n-- PostgreSQL database dump complete\n--\n\n");
        Text(b);
        if (!_sink.IsDatabase && _options.RestrictKey is { } endKey)
        {
            _sink.ScriptOnly(Ascii($"\\unrestrict {endKey}\n\n"));
        }
    }

    /// <summary>_doSetFixedOutputState: the settings every session of a restore starts with.</summary>
    public void SetFixedOutputState()
    {
        var b = new SqlBuffer();
        Emit(b.Add("SET statement_timeout = 0;\n"));
        Emit(b.Add("SET lock_timeout = 0;\n"));
        Emit(b.Add("SET idle_in_transaction_session_timeout = 0;\n"));
        if (_pg18)
        {
            // PostgreSQL 17 sends this unconditionally (an older server rejects it).
            Emit(b.Add("SET transaction_timeout = 0;\n"));
        }

        Emit(b.Add($"SET client_encoding = '{EncodingName()}';\n"));
        Emit(b.Add($"SET standard_conforming_strings = {(_archive.StandardConformingStrings ? "on" : "off")};\n"));
        if (_options.Role is { } role)
        {
            Emit(b.Add("SET ROLE ").Id(Bytes(role)).Add(";\n"));
        }

        if (_searchPath is not null)
        {
            Emit(b.Add(_searchPath));
        }

        Emit(b.Add("SET check_function_bodies = false;\n"));
        Emit(b.Add("SET xmloption = content;\n"));
        Emit(b.Add("SET client_min_messages = warning;\n"));
        if (!_archive.StandardConformingStrings)
        {
            Emit(b.Add("SET escape_string_warning = off;\n"));
        }

        Emit(b.Add(_options.EnableRowSecurity ? "SET row_security = on;\n" : "SET row_security = off;\n"));

        // pg_restore 17: in --transaction-size mode a session restores objects inside a transaction block.
        if (TransactionBlocks)
        {
            Emit(b.Add("\nBEGIN;\n"));
            _txnCount = 0;
        }

        Text(b.Add("\n"));
    }

    /// <summary>
    /// --transaction-size: one more object done; at the limit, COMMIT and BEGIN again (restore_toc_entry writes
    /// <paramref name="scriptText"/>, the drop phase the same without the blank line).
    /// </summary>
    private void CountTransactionAction(string scriptText)
    {
        if (!TransactionBlocks || ++_txnCount < _options.TransactionSize)
        {
            return;
        }

        CommitAndBegin(scriptText);
        _txnCount = 0;
    }

    // A session commits and begins as two commands (CommitTransaction, StartTransaction); a script gets pg_restore's text.
    private void CommitAndBegin(string scriptText)
    {
        if (_sink.IsDatabase)
        {
            _sink.Sql(Ascii("COMMIT"));
            _sink.Sql(Ascii("BEGIN"));
        }
        else
        {
            _sink.Sql(Ascii(scriptText));
        }
    }

    // pg_encoding_to_char of the ENCODING entry's encoding: its canonical upper-case name.
    private string EncodingName() => _archive.Encoding.Name.ToUpperInvariant() switch
    {
        "UNICODE" => "UTF8",
        var n => n,
    };

    /// <summary>One statement-sized piece of SQL (ahprintf): script text or one query.</summary>
    private void Emit(SqlBuffer b)
    {
        _sink.Sql(b.ToArray());
        b.Clear();
    }

    /// <summary>Comment-only text: pg_restore writes it to scripts and sends it as a no-op query.</summary>
    private void Text(SqlBuffer b)
    {
        if (b.Length > 0)
        {
            _sink.ScriptOnly(b.ToArray());
        }

        b.Clear();
    }

    private void Verbose(string line)
    {
        if (_options.Verbose)
        {
            Info?.Invoke(line);
        }
    }

    private byte[] Bytes(string s) => _archive.Encoding.Encoding.GetBytes(s);

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);
}
