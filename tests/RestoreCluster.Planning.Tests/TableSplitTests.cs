using RestoreCluster.Archive;
using RestoreCluster.Planning;
using Xunit;

namespace RestoreCluster.Planning.Tests;

/// <summary>
/// Split big TABLE DATA in the plan: a table above the threshold becomes K chunk units with IDs of their own (which
/// never collide with any other journal ID), that run at once, count the table's bytes once, and are followed by the
/// end of the table's load, which holds the table's post-data; a failed COPY counts once over the chunks; tables the
/// split must leave alone stay one unit.
/// </summary>
public sealed class TableSplitTests
{
    // 4 kB threshold, up to 3 chunks (-j 3): a 10,000-byte table is cut into ceil(10000 / 4096) = 3.
    private static readonly TableSplit Split = new(4096, 3);

    private static TocBuilder Toc(long dataLength = 10_000) => new TocBuilder()
        .Add(1, "TABLE", ArchiveSection.PreData, 0, "big")
        .Add(2, "TABLE", ArchiveSection.PreData, 0, "small")
        .Data(11, "big", dataLength, 1)
        .Data(12, "small", 100, 2)
        .Add(20, "INDEX", ArchiveSection.PostData, 0, "big_idx", 1)
        .Add(21, "CONSTRAINT", ArchiveSection.PostData, 0, "big_pkey", 1);

    private static int[] ChunkIds(int dumpId, int count) => TableSplit.ChunkIds(dumpId, count);

    [Fact]
    public void ATableAboveTheThresholdBecomesOneUnitPerChunkWhoseSizesAddUpToTheTables()
    {
        var plan = Toc().Plan(Split);

        var chunks = plan.Units.Where(u => u.Chunk is not null).ToList();
        Assert.Equal(ChunkIds(11, 3), chunks.Select(u => u.Id));
        Assert.Null(plan.GetUnit(11));
        Assert.All(chunks, u => Assert.Equal((11, "TABLE DATA", "big", 10_000L), (u.DumpId, u.Desc, u.Tag, u.Priority)));
        Assert.Equal([0, 1, 2], chunks.Select(u => u.Chunk!.Value.Index));
        Assert.Equal(10_000, chunks.Sum(u => u.DataBytes));
        Assert.Equal(10_100, plan.TotalDataBytes);
        Assert.Equal("(chunk 2/3)", chunks[1].Chunk.ToString());
        Assert.Null(plan.GetUnit(12)!.Chunk);
    }

    [Fact]
    public void TheChunksRunAtOnceKnowTheirTableIsNewAndThePostDataWaitsForTheEndOfTheLoad()
    {
        var s = Toc().Schedule(Split);
        s.RunPrefork(new Dictionary<int, UnitStatus> { [1] = UnitStatus.TableCreated, [2] = UnitStatus.TableCreated });

        var chunks = new[] { s.LeaseOne("w1"), s.LeaseOne("w2"), s.LeaseOne("w3") };
        Assert.Equal(ChunkIds(11, 3).Order(), chunks.Select(c => c.UnitId).Order());
        // The run created the table: its chunks split it (none truncates: the unit executor's rule), and its end may
        // take the rows back.
        Assert.All(chunks, c => Assert.True(c.TableCreated, $"chunk {c.UnitId} does not know its table is new"));
        var small = s.LeaseOne("w4");
        Assert.Equal(12, small.UnitId);
        Assert.True(small.TableCreated);

        s.Done(small);
        s.Done(chunks[0]);
        s.Done(chunks[2]);
        Assert.Null(s.Lease("w5", TocBuilder.T0, TocBuilder.Ttl));
        Assert.Equal(UnitState.Pending, s.GetState(TableSplit.EndId(11)));
        Assert.Equal(UnitState.Pending, s.GetState(20));
        Assert.Equal(UnitState.Pending, s.GetState(21));

        s.Done(chunks[1]);
        Assert.Equal(10_100, s.Progress.DoneDataBytes);
        var end = s.LeaseOne("w1");
        Assert.Equal(TableSplit.EndId(11), end.UnitId);
        Assert.True(end.TableCreated);
        Assert.Null(s.Lease("w2", TocBuilder.T0, TocBuilder.Ttl));
        s.Done(end);
        var index = s.LeaseOne("w1");
        Assert.Equal(20, index.UnitId);
        // The constraint locks the table's data, all of its chunks, which the index uses: it waits for the index.
        Assert.Null(s.Lease("w2", TocBuilder.T0, TocBuilder.Ttl));
        s.Done(index);
        Assert.Equal(21, s.LeaseOne("w2").UnitId);
    }

    [Fact]
    public void TheChunksOfATableThisRunDidNotCreateAreToldSo()
    {
        // -a, or a CREATE TABLE that failed: the unit executor then loads the table whole in its first chunk.
        var s = Toc().Schedule(Split);
        s.RunPrefork(new Dictionary<int, UnitStatus> { [2] = UnitStatus.TableCreated });

        var chunks = new[] { s.LeaseOne("w1"), s.LeaseOne("w2"), s.LeaseOne("w3") };
        Assert.Equal(ChunkIds(11, 3).Order(), chunks.Select(c => c.UnitId).Order());
        Assert.All(chunks, c => Assert.False(c.TableCreated));
    }

    [Fact]
    public void TheEndUnitsIdMeetsNoChunkAndNamesItsEntry()
    {
        int end = TableSplit.EndId(11);
        Assert.Equal(11, TableSplit.EndOf(end));
        Assert.Equal(11, TableSplit.DumpIdOf(end));
        Assert.Null(TableSplit.ChunkOf(end));
        Assert.False(PlanUnit.IsArchiveItem(end));
        Assert.True(PlanUnit.IsArchiveItem(TableSplit.ChunkId(11, 0, 2)));
        Assert.DoesNotContain(end, Enumerable.Range(2, TableSplit.ChunkCap - 1).SelectMany(k => ChunkIds(11, k)));
        Assert.Null(TableSplit.EndOf(TableSplit.ChunkId(11, 0, 2)));
        Assert.Null(TableSplit.EndOf(int.MinValue));
        Assert.Null(TableSplit.EndOf(11));
        Assert.Null(TableSplit.EndOf(-1));
    }

    [Fact]
    public void AFailedCopyOfASplitTableCountsOnceHoweverManyChunksFailed()
    {
        var errors = new SplitErrors();
        Assert.Equal(1, errors.Counted(TableSplit.ChunkId(11, 1, 3), 1));
        Assert.Equal(0, errors.Counted(TableSplit.ChunkId(11, 0, 3), 1));
        Assert.Equal(0, errors.Counted(TableSplit.ChunkId(11, 2, 3), 2));
        Assert.Equal(0, errors.Counted(TableSplit.ChunkId(11, 2, 3), 0));
        // Another table's chunks, and units that are no chunks, count as they come.
        Assert.Equal(1, errors.Counted(TableSplit.ChunkId(12, 0, 2), 1));
        Assert.Equal(2, errors.Counted(20, 2));
        Assert.Equal(2, errors.Counted(20, 2));
    }

    [Fact]
    public void AChunkThatStopsTheJobHasItsTableTakenBackAtTheEndOnlyWhenTheRunCreatedTheTable()
    {
        var errors = new SplitErrors();
        errors.Leased(TableSplit.ChunkId(11, 0, 2), tableCreated: true);
        errors.Leased(TableSplit.ChunkId(12, 0, 2), tableCreated: false);
        errors.Leased(20, tableCreated: true);
        errors.Stopped(TableSplit.ChunkId(12, 0, 2));
        errors.Stopped(20);
        Assert.Empty(errors.TakenBackAtTheEnd);

        errors.Stopped(TableSplit.ChunkId(11, 1, 2));
        Assert.Equal([TableSplit.EndId(11)], errors.TakenBackAtTheEnd);
    }

    [Fact]
    public void ATableThatCouldNotBeCreatedHasEveryChunkSwitchedOff()
    {
        var s = Toc().Schedule(Split);
        s.RunPrefork(new Dictionary<int, UnitStatus> { [1] = UnitStatus.InhibitData });

        Assert.All(ChunkIds(11, 3), id => Assert.Equal(UnitState.Done, s.GetState(id)));
        Assert.Equal(1, s.ErrorCount);
    }

    [Fact]
    public void WhatDependsOnTheSplitDataEntryDependsOnEveryChunk()
    {
        var plan = Toc().Add(30, "SEQUENCE SET", ArchiveSection.Data, 0, "s", 11).Plan(Split);

        Assert.Equal(ChunkIds(11, 3), plan.GetUnit(30)!.Dependencies);
        // Post-data waits for the end of the load too, which waits for every chunk.
        Assert.Equal([.. ChunkIds(11, 3), TableSplit.EndId(11)], plan.GetUnit(20)!.Dependencies);
        Assert.Equal([1, .. ChunkIds(11, 3)], plan.GetUnit(TableSplit.EndId(11))!.Dependencies);
    }

    [Theory]
    [InlineData(4096, 1)] // at the threshold: not above it
    [InlineData(4097, 2)]
    [InlineData(8192, 2)]
    [InlineData(8193, 3)]
    [InlineData(1_000_000, 3)] // min(-j, ...)
    public void TheChunkCountIsTheSizeOverTheThresholdRoundedUpAtMostMinOfJobsAndEight(long dataLength, int chunks)
    {
        Assert.Equal(chunks, Split.ChunksFor(dataLength));
        Assert.Equal(chunks == 1 ? 0 : chunks, Toc(dataLength).Plan(Split).Units.Count(u => u.Chunk is not null));
        Assert.Equal(TableSplit.ChunkCap, new TableSplit(4096, 64).ChunksFor(1_000_000));
    }

    [Fact]
    public void TablesTheSplitMustLeaveAloneStayOneUnit()
    {
        // --inserts data (statements, not COPY rows); a table with several data entries; data not restored; split off.
        var insertsBig = new TocBuilder().Add(1, "TABLE", ArchiveSection.PreData).Data(11, "big", 10_000, 1).Inserts();
        Assert.Empty(RestorePlan.SplitTables(insertsBig.Entries, insertsBig.Parts, Split));

        var parts = new TocBuilder().Add(1, "TABLE", ArchiveSection.PreData).Data(11, "t", 10_000, 1).Data(12, "t", 10_000, 1);
        Assert.Empty(RestorePlan.SplitTables(parts.Entries, parts.Parts, Split));
        Assert.Equal([11, 12], parts.Plan(Split).Units.Select(u => u.Id));

        var skipped = Toc().Skip(11);
        Assert.Empty(RestorePlan.SplitTables(skipped.Entries, skipped.Parts, Split));

        Assert.Empty(RestorePlan.SplitTables(Toc().Entries, Toc().Parts, TableSplit.Off));
        Assert.Empty(RestorePlan.SplitTables(Toc().Entries, Toc().Parts, new TableSplit(4096, 1)));
        Assert.Equal(11, Toc().Plan().GetUnit(11)!.Id);
    }

    [Fact]
    public void ChunkIdsCollideWithNoOtherJournalId()
    {
        foreach (int dumpId in new[] { 1, 2, 63, 64, 1000, 123_457, TableSplit.MaxDumpId })
        {
            for (int count = 2; count <= TableSplit.ChunkCap; count++)
            {
                for (int index = 0; index < count; index++)
                {
                    int id = TableSplit.ChunkId(dumpId, index, count);
                    // Below every drop (-dumpId) and the missed items (-1), above the final journal drop (int.MinValue).
                    Assert.InRange(id, int.MinValue + 1, -(1 << 30) - 1);
                    Assert.Equal(new TableChunk(dumpId, index, count), TableSplit.ChunkOf(id));
                }
            }
        }

        // Every (count, index) of one table has an ID of its own: 2 + 3 + ... + 8.
        Assert.Equal(35, Enumerable.Range(2, 7).SelectMany(c => Enumerable.Range(0, c).Select(i => TableSplit.ChunkId(5, i, c))).Distinct().Count());
        Assert.All(new[] { int.MinValue, -1, 0, 1, 11, -11, -TableSplit.MaxDumpId, int.MaxValue }, id => Assert.Null(TableSplit.ChunkOf(id)));
        Assert.Throws<ArgumentOutOfRangeException>(() => TableSplit.ChunkId(TableSplit.MaxDumpId + 1, 0, 2));
        var big = new TocBuilder().Add(1, "TABLE", ArchiveSection.PreData).Data(TableSplit.MaxDumpId + 1, "t", 10_000, 1);
        Assert.Empty(RestorePlan.SplitTables(big.Entries, big.Parts, Split));
    }

    [Fact]
    public void TheLayoutTheJournalFingerprintsNamesTheChunksNotTheThresholdOrJobs()
    {
        var toc = Toc();
        string Layout(TableSplit split) => split.Layout(RestorePlan.SplitTables(toc.Entries, toc.Parts, split));

        // -j 3 and -j 4 cut the 10,000-byte table into the same 3 chunks: a --resume with either goes on.
        Assert.Equal(Layout(new TableSplit(4096, 3)), Layout(new TableSplit(4096, 4)));
        Assert.Equal("blocks 256: 11/3", Layout(new TableSplit(4096, 3)));
        // -j 2 cuts it into 2: refused; so is another block size.
        Assert.NotEqual(Layout(new TableSplit(4096, 3)), Layout(new TableSplit(4096, 2)));
        Assert.NotEqual(Layout(new TableSplit(4096, 3)), Layout(new TableSplit(4000, 3)));
        Assert.Equal("", Layout(TableSplit.Off));
        Assert.Equal(TableSplit.MaxBlockBytes, new TableSplit(256L << 20, 8).BlockBytes);
    }

    [Fact]
    public void AChunkCountsAShareOfWhatItReadsSoTheTablesBytesAreCountedOnce()
    {
        var s = Toc().Schedule(Split);
        var p = new RestoreProgress(s.Plan, id => $"unit {id}");
        s.RunPrefork();
        var chunks = new[] { s.LeaseOne("w1"), s.LeaseOne("w2"), s.LeaseOne("w3") };
        foreach (var c in chunks)
        {
            p.Leased(c.LeaseId, c.UnitId, TocBuilder.T0);
        }

        // Each chunk reads the whole stream (about 10,000 archive bytes with its framing).
        foreach (var c in chunks)
        {
            p.Read(c.LeaseId, 9000);
        }

        Assert.All(p.Running, r => Assert.Equal(3000, r.BytesRead));
        Assert.Equal(9000, p.BytesDone(s.Progress.DoneDataBytes));
        foreach (var c in chunks)
        {
            p.Read(c.LeaseId, 10_400);
            s.Done(c);
            p.Finished(c.LeaseId, rows: 10, bytesRead: 10_400, TocBuilder.T0.AddSeconds(1));
        }

        Assert.Equal(10_000, p.BytesDone(s.Progress.DoneDataBytes));
        Assert.Equal(30, p.Rows);
    }
}
