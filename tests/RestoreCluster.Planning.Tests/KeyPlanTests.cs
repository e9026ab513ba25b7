using RestoreCluster.Archive;
using RestoreCluster.Planning;
using Xunit;

namespace RestoreCluster.Planning.Tests;

/// <summary>
/// Keys built as indexes first take an index's place in the lock model: beside the table's index builds, alone
/// in their transaction, one per table at a time. Foreign keys keep pg_restore's locks.
/// </summary>
public sealed class KeyPlanTests
{
    private const string TableT = "CREATE TABLE public.t (\n    id integer NOT NULL,\n    a integer\n);\n";
    private const string Partitioned = "CREATE TABLE public.p (\n    id integer NOT NULL\n)\nPARTITION BY RANGE (id);\n";

    // 1 TABLE t, 2 its data (1 MB: more than a small unit's); 3 an INDEX, 4 its primary key, 5 a unique key, 6 a foreign key to itself through 4;
    // 7 a partitioned table with 8 its primary key; 9 a CHECK constraint of t.
    private static TocBuilder Toc() => new TocBuilder()
        .Add(1, "TABLE", ArchiveSection.PreData).Defn(1, TableT)
        .Data(2, "t", 1_000_000, 1)
        .Add(3, "INDEX", ArchiveSection.PostData, 1)
        .Add(4, "CONSTRAINT", ArchiveSection.PostData, 1).Defn(4, "ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id);\n")
        .Add(5, "CONSTRAINT", ArchiveSection.PostData, 1).Defn(5, "ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_a_key UNIQUE (a);\n")
        .Add(6, "FK CONSTRAINT", ArchiveSection.PostData, 1, 4).Defn(6, "ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_a_fkey FOREIGN KEY (a) REFERENCES public.t(id);\n")
        .Add(7, "TABLE", ArchiveSection.PreData).Defn(7, Partitioned)
        .Add(8, "CONSTRAINT", ArchiveSection.PostData, 7).Defn(8, "ALTER TABLE ONLY public.p\n    ADD CONSTRAINT p_pkey PRIMARY KEY (id);\n")
        .Add(9, "CONSTRAINT", ArchiveSection.PostData, 1).Defn(9, "ALTER TABLE public.t\n    ADD CONSTRAINT t_a_check CHECK ((a > 0));\n");

    [Fact]
    public void KeysOfAPlainTableAreSplitAndThoseOfAPartitionedTableAndChecksAreNot()
    {
        var toc = Toc();
        var keys = KeyPlan.For(toc.Entries, keysAsIndexes: true, foreignKeysNotValid: true);

        Assert.NotNull(keys.KeyOf(4));
        Assert.NotNull(keys.KeyOf(5));
        Assert.Null(keys.KeyOf(8));
        Assert.Null(keys.KeyOf(9));
        Assert.Null(keys.KeyOf(6));
        Assert.NotNull(keys.ForeignKeyOf(6));

        var off = KeyPlan.For(toc.Entries, keysAsIndexes: false, foreignKeysNotValid: false);
        Assert.Null(off.KeyOf(4));
        Assert.Null(off.ForeignKeyOf(6));
    }

    [Fact]
    public void KeysAndForeignKeysOfASmallTableRunAsWritten()
    {
        // Its data is a small unit's (batched with others): steps would each take a transaction of their own.
        var small = new TocBuilder()
            .Add(1, "TABLE", ArchiveSection.PreData).Defn(1, TableT)
            .Data(2, "t", PlanUnit.SmallBytes, 1)
            .Add(4, "CONSTRAINT", ArchiveSection.PostData, 1).Defn(4, "ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id);\n")
            .Add(6, "FK CONSTRAINT", ArchiveSection.PostData, 1, 4).Defn(6, "ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_a_fkey FOREIGN KEY (a) REFERENCES public.t(id);\n");

        var keys = KeyPlan.For(small.Entries, keysAsIndexes: true, foreignKeysNotValid: true);

        Assert.Null(keys.KeyOf(4));
        Assert.Null(keys.ForeignKeyOf(6));
        Assert.False(small.PlanWithKeys().GetUnit(4)!.RunsAlone);
    }

    [Fact]
    public void ASplitKeyLocksNothingRunsAloneAndWaitsForTheKeyBeforeItOnItsTable()
    {
        var plan = Toc().PlanWithKeys();

        var pk = plan.GetUnit(4)!;
        Assert.Empty(pk.LockDependencies);
        Assert.True(pk.RunsAlone);
        var unique = plan.GetUnit(5)!;
        Assert.Empty(unique.LockDependencies);
        Assert.True(unique.RunsAlone);
        Assert.Contains(4, unique.Dependencies);

        // The partitioned table's key, the check and the foreign key lock their tables as in pg_restore.
        Assert.Equal([7], plan.GetUnit(8)!.LockDependencies);
        Assert.False(plan.GetUnit(8)!.RunsAlone);
        Assert.Equal([2], plan.GetUnit(9)!.LockDependencies);
        Assert.Equal([2], plan.GetUnit(6)!.LockDependencies);

        // Without the switch, pg_restore's model.
        var plain = Toc().Plan();
        Assert.Equal([2], plain.GetUnit(4)!.LockDependencies);
        Assert.False(plain.GetUnit(4)!.RunsAlone);
        Assert.DoesNotContain(4, plain.GetUnit(5)!.Dependencies);
    }

    [Fact]
    public void APrimaryKeyIsLeasedBesideAnIndexBuildOfItsTableButNotInABatchAfterIt()
    {
        var s = new RestoreSchedule(Toc().PlanWithKeys());
        s.RunPrefork();
        var data = s.LeaseOne();
        Assert.Equal(2, data.UnitId);
        s.Done(data);

        var first = s.LeaseOne("w1");
        Assert.Equal(3, first.UnitId);
        // Joining w1's batch: the key is passed over (it runs alone), the CHECK waits on its lock; the partitioned
        // table's key (as written, it locks only its own table) may join.
        var joining = s.Lease("w1", TocBuilder.T0, TocBuilder.Ttl, joiningBatch: true);
        Assert.Equal(8, joining?.UnitId);
        Assert.Null(s.Lease("w1", TocBuilder.T0, TocBuilder.Ttl, joiningBatch: true));

        // On its own it goes at once, beside the index build.
        var key = s.LeaseOne("w2");
        Assert.Equal(4, key.UnitId);
        // The unique key of the same table waits for it; the CHECK and the foreign key wait on their locks.
        Assert.Null(s.Lease("w3", TocBuilder.T0, TocBuilder.Ttl));

        s.Done(key);
        var unique = s.LeaseOne("w3");
        Assert.Equal(5, unique.UnitId);
    }

    [Fact]
    public void WithoutTheSwitchThePrimaryKeyWaitsForTheIndexBuild()
    {
        var s = new RestoreSchedule(Toc().Plan());
        s.RunPrefork();
        s.Done(s.LeaseOne());
        var index = s.LeaseOne("w1");
        Assert.Equal(3, index.UnitId);

        // The key (and the CHECK) lock the table the index build reads: only the other table's key goes.
        Assert.Equal(8, s.Lease("w2", TocBuilder.T0, TocBuilder.Ttl)?.UnitId);
        Assert.Null(s.Lease("w3", TocBuilder.T0, TocBuilder.Ttl));
    }
}
