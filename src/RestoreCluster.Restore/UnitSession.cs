using Npgsql;
using RestoreCluster.Archive;

namespace RestoreCluster.Restore;

/// <summary>
/// One worker session on the target: runs units (one TOC entry, or one DROP) each in its own transaction
/// together with its journal row, so a unit is applied exactly once however often it is retried. A lost
/// session is reopened and the unit retried with bounded exponential backoff; an error in the archive's
/// SQL is counted as pg_restore counts it, never retried.
/// </summary>
public sealed class UnitSession : IDisposable
{
    private const int MaxAttempts = 6;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    private readonly PgArchive _archive;
    private readonly IReadOnlyList<TocEntry> _order;
    private readonly RestoreOptions _options;
    private readonly Func<string, NpgsqlConnection> _connect;
    private readonly string _database;
    private readonly RestoreJournal _journal;
    private readonly Action<string> _reportError;
    private readonly DataReadCounter? _dataRead;
    private DatabaseSink? _sink;
    private RestoreEmitter? _emitter;

    public UnitSession(
        PgArchive archive, IReadOnlyList<TocEntry> order, RestoreOptions options, ConnectionTarget target,
        RestoreJournal journal, Action<string> reportError, Func<string?>? promptPassword = null, DataReadCounter? dataRead = null)
    {
        _dataRead = dataRead;
        _archive = archive;
        _order = order;
        _options = options;
        _database = target.Database;
        _journal = journal;
        _reportError = reportError;
        _connect = new TargetConnector(target, archive.Encoding, promptPassword).Open;
    }

    /// <summary>Retries made because a session was lost (for telemetry and tests).</summary>
    public int Retries { get; private set; }

    /// <summary>The session's connection, opening it if needed (journal preparation and clean-up).</summary>
    public NpgsqlConnection Connection => Sink.Connection;

    /// <summary>Restores one entry as a unit; <paramref name="truncateFirst"/> for data of a table this run created.</summary>
    public UnitResult RunEntry(int unitId, TocEntry entry, bool truncateFirst, CancellationToken cancellation = default) =>
        Run(unitId, e => e.RestoreEntry(entry, truncateFirst), cancellation);

    /// <summary>The -c DROP of one entry as a unit.</summary>
    public UnitResult RunDrop(int unitId, TocEntry entry, CancellationToken cancellation = default) =>
        Run(unitId, e => e.DropEntry(entry), cancellation);

    /// <summary>The entries -c drops, in the order pg_restore drops them.</summary>
    public IReadOnlyList<TocEntry> DropEntries()
    {
        _ = Sink;
        return _emitter!.DropOrder().ToList();
    }

    public void Dispose() => Close();

    private DatabaseSink Sink
    {
        get
        {
            if (_sink is null)
            {
                _sink = new DatabaseSink(_connect, _database, _archive, _options.ExitOnError, _reportError);
                _emitter = new RestoreEmitter(_archive, _order, _options, _sink) { UnitMode = true, DataRead = _dataRead };
                _emitter.SetFixedOutputState();
            }

            return _sink;
        }
    }

    private UnitResult Run(int unitId, Action<RestoreEmitter> body, CancellationToken cancellation)
    {
        for (int attempt = 1; ; attempt++)
        {
            cancellation.ThrowIfCancellationRequested();
            // Each attempt reads the entry's data from its start again: so does its live count.
            _dataRead?.Reset();
            try
            {
                var sink = Sink;
                int before = sink.ErrorCount;
                long bytesBefore = sink.CopyBytes;
                long rowsBefore = sink.CopyRows;
                _emitter!.CreatedTables.Clear();
                _emitter.InhibitedData.Clear();
                sink.BeginUnit();
                body(_emitter);
                int errors = sink.ErrorCount - before;
                if (!sink.CommitUnit(_journal.RecordSql(unitId, errors)))
                {
                    return new UnitResult(0, [], [], 0, 0);
                }

                return new UnitResult(errors, [.. _emitter.CreatedTables], [.. _emitter.InhibitedData], sink.CopyBytes - bytesBefore, sink.CopyRows - rowsBefore);
            }
            catch (TransientRestoreException e) when (attempt < MaxAttempts)
            {
                // The transaction died with the session: nothing of this unit was committed.
                Close();
                Retries++;
                RestoreInstruments.Retries.Add(1);
                var delay = TimeSpan.FromMilliseconds(Math.Min(MaxBackoff.TotalMilliseconds, 100 * Math.Pow(2, attempt)));
                _reportError($"warning: {e.Message}; retrying in {delay.TotalMilliseconds:0} ms (attempt {attempt + 1} of {MaxAttempts})");
                cancellation.WaitHandle.WaitOne(delay);
            }
            catch (TransientRestoreException e)
            {
                Close();
                throw new RestoreFailedException($"{e.Message}; gave up after {MaxAttempts} attempts", e);
            }
        }
    }

    private void Close()
    {
        _sink?.Dispose();
        _sink = null;
        _emitter = null;
    }
}

/// <summary>What one unit did: errors counted, tables created, TABLE DATA entries switched off.</summary>
public sealed record UnitResult(int Errors, IReadOnlyList<int> CreatedTables, IReadOnlyList<int> InhibitedData, long Bytes, long Rows);
