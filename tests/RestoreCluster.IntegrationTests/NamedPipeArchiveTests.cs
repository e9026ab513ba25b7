using System.Runtime.InteropServices;
using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.IntegrationTests;

/// <summary>
/// An archive path that is a named pipe cannot seek. The command line looked like a restore through the grains, so
/// its silo started early (EarlySilo); the restore then runs serially, as pg_restore's does, and that silo is stopped
/// before it starts instead of idling beside it. With -j 2 it is pg_restore's error (pg_backup_custom.c,
/// _ReopenArchive).
/// </summary>
public sealed class NamedPipeArchiveTests
{
    [Fact]
    public async Task ARestoreFromANamedPipeStopsTheEarlySiloBeforeItsSerialRestoreAndMatchesPgRestore()
    {
        var fixtures = await FixtureArchives.GetAsync();
        var server = fixtures.Server;
        string archive = fixtures["rich.custom"].Path;
        string dir = Directory.CreateTempSubdirectory("rc-pipe-").FullName;
        string pipe = Path.Combine(dir, "archive.pipe");
        string log = Path.Combine(dir, "restore.log");
        MakePipe(pipe);
        string refDb = await server.CreateDatabaseAsync("pipe_pg");
        string ourDb = await server.CreateDatabaseAsync("pipe_rc");
        try
        {
            var feeding = FeedAsync(pipe, archive);
            var ours = await CliRunner.RunAsync(server, ["restore", "--log-file", log, "-d", ourDb, pipe], timeout: TimeSpan.FromMinutes(3));
            await UnblockAsync(pipe, feeding);
            var reference = await server.RunToolAsync("pg_restore", ["-d", refDb, archive], timeout: TimeSpan.FromMinutes(3));

            RestoreComparison.AssertSame(new RestoreComparison.Outcome(
                reference, ours, await RestoreComparison.DumpAsync(server, refDb), await RestoreComparison.DumpAsync(server, ourDb)));
            string records = await File.ReadAllTextAsync(log);
            int started = records.IndexOf("Orleans Silo started.", StringComparison.Ordinal);
            int stopped = records.IndexOf("Orleans Silo stopped.", StringComparison.Ordinal);
            int serial = records.IndexOf("serial restore started (an archive that cannot seek)", StringComparison.Ordinal);
            Assert.True(started >= 0 && stopped > started && serial > stopped, records);
        }
        finally
        {
            await server.DropDatabaseAsync(refDb);
            await server.DropDatabaseAsync(ourDb);
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task AParallelRestoreFromANamedPipeIsPgRestoresError()
    {
        var fixtures = await FixtureArchives.GetAsync();
        string dir = Directory.CreateTempSubdirectory("rc-pipe-").FullName;
        string pipe = Path.Combine(dir, "archive.pipe");
        MakePipe(pipe);
        try
        {
            var feeding = FeedAsync(pipe, fixtures["rich.custom"].Path);
            var result = await CliRunner.RunAsync(fixtures.Server, ["restore", "-j", "2", "-d", "postgres", pipe], timeout: TimeSpan.FromMinutes(1));
            await UnblockAsync(pipe, feeding);

            Assert.Equal(1, result.ExitCode);
            Assert.Equal(
                "restorecluster: error: parallel restore from non-seekable file is not supported",
                Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // Writes the archive into the pipe; the open waits for a reader. A reader that stops early breaks the pipe, which
    // is the restore's business, not the feeder's.
    private static Task FeedAsync(string pipe, string archive) => Task.Run(async () =>
    {
        try
        {
            await using var writer = new FileStream(pipe, FileMode.Open, FileAccess.Write);
            await using var reader = File.OpenRead(archive);
            await reader.CopyToAsync(writer);
        }
        catch (IOException)
        {
        }
    });

    // A command that ended without opening the pipe leaves the feeder waiting for a reader: be that reader.
    private static async Task UnblockAsync(string pipe, Task feeding)
    {
        if (await Task.WhenAny(feeding, Task.Delay(TimeSpan.FromSeconds(2))) != feeding)
        {
            await using var drain = new FileStream(pipe, FileMode.Open, FileAccess.Read);
            await drain.CopyToAsync(Stream.Null);
        }

        await feeding.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private static void MakePipe(string path)
    {
        if (MakeFifo(path, Convert.ToUInt32("600", 8)) != 0)
        {
            throw new IOException($"mkfifo {path} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MakeFifo(string path, uint mode);
}
