using RestoreCluster.LocalPostgres;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// Primary keys and unique constraints built as CREATE UNIQUE INDEX and then ADD CONSTRAINT ... USING INDEX,
/// foreign keys added NOT VALID and then validated (docs/restore.md, "Keys and foreign keys"): the database dumps
/// as pg_restore's at -j 1, 2 and 4, for keys with INCLUDE, WITH (fillfactor), DEFERRABLE INITIALLY DEFERRED, NULLS
/// NOT DISTINCT, a quoted name, a comment on a constraint, foreign keys to a primary key and to a unique key, a
/// foreign key already NOT VALID, a clustered key and a partitioned table (both as written), and a key in a
/// tablespace of its own (when the test server is this machine's: the tablespace's folder must be the server
/// user's). The parent table holds more data than a small unit (PlanUnit.SmallBytes), whose keys run as written. An event trigger in a restore of our own shows which statements ran, with the switches and without.
/// </summary>
public sealed class KeysFidelityTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("restorecluster-keys-").FullName;
    private readonly string _tablespace = $"keys_ts_{Guid.NewGuid():N}";
    private string? _tablespaceDirectory;
    private PostgresServer? _server;
    private string? _archive;

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.GetSharedAsync();
        string schema = Schema;
        if (!_server.IsExternal)
        {
            _tablespaceDirectory = Directory.CreateTempSubdirectory("restorecluster-ts-").FullName;
            if (ServerUser.IsRoot)
            {
                (await PgTool.RunAsync("chown", [$"{ServerUser.PostgresUser}:{ServerUser.PostgresUser}", _tablespaceDirectory])).EnsureSuccess();
            }

            await _server.ExecuteAsync("postgres", $"CREATE TABLESPACE {_tablespace} LOCATION '{_tablespaceDirectory}'");
            schema += $"ALTER TABLE public.parent ADD CONSTRAINT parent_spaced_key UNIQUE (code, id) USING INDEX TABLESPACE {_tablespace};\n";
        }

        _archive = await RestoreComparison.MakeArchiveAsync(_server, _directory, "keys_source", db => _server.ExecuteAsync(db, schema));
    }

    public async Task DisposeAsync()
    {
        Directory.Delete(_directory, recursive: true);
        if (_tablespaceDirectory is not null)
        {
            await _server!.ExecuteAsync("postgres", $"DROP TABLESPACE IF EXISTS {_tablespace}");
            Directory.Delete(_tablespaceDirectory, recursive: true);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public async Task KeysAndForeignKeysRestoredInStepsDumpAsPgRestores(int jobs)
    {
        var outcome = await RestoreComparison.RunAsync(_server!, _archive!, ["-j", $"{jobs}"], $"keys_j{jobs}");

        RestoreComparison.AssertSame(outcome);
        Assert.Equal(0, outcome.Ours.ExitCode);
        if (_tablespaceDirectory is not null)
        {
            Assert.Contains($"SET default_tablespace = {_tablespace};", outcome.OurDump, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task KeysAreBuiltAsIndexesAndForeignKeysValidatedUnlessSwitchedOff()
    {
        var split = await StatementsAsync([]);
        Assert.Contains(split, q => q.StartsWith("CREATE UNIQUE INDEX parent_pkey ON public.parent USING btree (id)", StringComparison.Ordinal));
        Assert.Contains(split, q => q.StartsWith("ALTER TABLE ONLY public.parent ADD CONSTRAINT parent_pkey PRIMARY KEY USING INDEX parent_pkey", StringComparison.Ordinal));
        Assert.Contains(split, q => q.Contains("INCLUDE (extra) WITH (fillfactor='70')", StringComparison.Ordinal));
        Assert.Contains(split, q => q.EndsWith("USING INDEX parent_note_key DEFERRABLE INITIALLY DEFERRED", StringComparison.Ordinal));
        Assert.Contains(split, q => q.Contains("FOREIGN KEY (parent_id) REFERENCES public.parent(id) NOT VALID", StringComparison.Ordinal));
        Assert.Contains(split, q => q.StartsWith("ALTER TABLE ONLY public.child VALIDATE CONSTRAINT child_parent_id_fkey", StringComparison.Ordinal));
        // As written: the partitioned table's key, the clustered key (its definition has two statements).
        Assert.Contains(split, q => q.Contains("ADD CONSTRAINT part_pkey PRIMARY KEY (id)", StringComparison.Ordinal));
        Assert.Contains(split, q => q.Contains("ADD CONSTRAINT clustered_pkey PRIMARY KEY (id)", StringComparison.Ordinal));

        var plain = await StatementsAsync(["--no-keys-as-indexes", "--no-fk-not-valid"]);
        Assert.Contains(plain, q => q.Contains("ADD CONSTRAINT parent_pkey PRIMARY KEY (id)", StringComparison.Ordinal));
        Assert.DoesNotContain(plain, q => q.Contains("USING INDEX", StringComparison.Ordinal) || q.StartsWith("CREATE UNIQUE INDEX", StringComparison.Ordinal));
        Assert.DoesNotContain(plain, q => q.Contains("VALIDATE CONSTRAINT", StringComparison.Ordinal));
        Assert.Contains(plain, q => q.Contains("child_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES public.parent(id)", StringComparison.Ordinal)
            && !q.Contains("NOT VALID", StringComparison.Ordinal));
    }

    // The DDL statements a restore with -j 2 and these options ran in a database of our own, as an event trigger saw them.
    private async Task<List<string>> StatementsAsync(IReadOnlyList<string> options)
    {
        string db = await _server!.CreateDatabaseAsync("keys_log");
        try
        {
            await _server.ExecuteAsync(db, """
                CREATE SCHEMA keylog;
                CREATE TABLE keylog.q (q text);
                CREATE FUNCTION keylog.log() RETURNS event_trigger LANGUAGE plpgsql AS
                $$ BEGIN INSERT INTO keylog.q VALUES (current_query()); END $$;
                CREATE EVENT TRIGGER keylog ON ddl_command_end EXECUTE FUNCTION keylog.log();
                """);
            var run = await CliRunner.RunAsync(_server, ["restore", "-j", "2", .. options, "-d", db, _archive!], timeout: TimeSpan.FromMinutes(3));
            Assert.True(run.ExitCode == 0, run.Describe());
            var rows = new List<string>();
            await using var conn = new Npgsql.NpgsqlConnection(_server.ConnectionString(db));
            await conn.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand("SELECT q FROM keylog.q", conn);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                // One line, as the assertions read it.
                rows.Add(string.Join(' ', r.GetString(0).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)));
            }

            return rows;
        }
        finally
        {
            await _server.DropDatabaseAsync(db);
        }
    }

    // One implicit transaction: the deferred foreign key is checked at each statement's end, not left pending for
    // the CREATE INDEX after it.
    private const string Schema = """
        SET CONSTRAINTS ALL IMMEDIATE;
        CREATE TABLE public.parent (id integer NOT NULL, code text NOT NULL, extra text, note text, tag text, pad text);
        INSERT INTO public.parent SELECT g, 'c' || g, 'x' || (g % 7), 'n' || g, CASE WHEN g % 2 = 0 THEN 't' || g END, (SELECT string_agg(md5(k || ':' || g), '') FROM generate_series(1, 8) k)
          FROM generate_series(1, 3000) g;
        ALTER TABLE public.parent ADD CONSTRAINT parent_pkey PRIMARY KEY (id);
        ALTER TABLE public.parent ADD CONSTRAINT parent_code_key UNIQUE (code) INCLUDE (extra) WITH (fillfactor = 70);
        ALTER TABLE public.parent ADD CONSTRAINT parent_note_key UNIQUE (note) DEFERRABLE INITIALLY DEFERRED;
        ALTER TABLE public.parent ADD CONSTRAINT "Parent Tag" UNIQUE NULLS NOT DISTINCT (tag, id);
        CREATE INDEX parent_extra_idx ON public.parent (extra);
        CREATE INDEX parent_note_idx ON public.parent (note DESC);
        COMMENT ON CONSTRAINT parent_pkey ON public.parent IS 'the parent key';
        COMMENT ON CONSTRAINT parent_code_key ON public.parent IS 'codes are unique';

        CREATE TABLE public.child (id integer PRIMARY KEY, parent_id integer NOT NULL REFERENCES public.parent (id),
            code text REFERENCES public.parent (code) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED);
        INSERT INTO public.child SELECT g, 1 + g % 3000, 'c' || (1 + g % 3000) FROM generate_series(1, 6000) g;
        CREATE INDEX child_parent_idx ON public.child (parent_id);
        ALTER TABLE public.child ADD CONSTRAINT child_parent_nv FOREIGN KEY (parent_id) REFERENCES public.parent (id) NOT VALID;
        COMMENT ON CONSTRAINT child_parent_id_fkey ON public.child IS 'to the primary key';

        CREATE TABLE public.clustered (id integer PRIMARY KEY, parent_id integer REFERENCES public.parent (id));
        INSERT INTO public.clustered SELECT g, g FROM generate_series(1, 100) g;
        ALTER TABLE public.clustered CLUSTER ON clustered_pkey;

        CREATE TABLE public.part (id integer NOT NULL, v text, PRIMARY KEY (id)) PARTITION BY RANGE (id);
        CREATE TABLE public.part_1 PARTITION OF public.part FOR VALUES FROM (0) TO (1000);
        CREATE TABLE public.part_2 PARTITION OF public.part FOR VALUES FROM (1000) TO (5000);
        INSERT INTO public.part SELECT g, 'v' || g FROM generate_series(1, 3000) g;
        CREATE TABLE public.to_part (id integer PRIMARY KEY, part_id integer REFERENCES public.part (id));
        INSERT INTO public.to_part SELECT g, g FROM generate_series(1, 50) g;
        """;
}
