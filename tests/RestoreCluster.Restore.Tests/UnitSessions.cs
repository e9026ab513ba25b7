using RestoreCluster.Archive;

namespace RestoreCluster.Restore.Tests;

/// <summary>Unit sessions on a real target, as the journal tests open them: default options, errors dropped.</summary>
internal static class UnitSessions
{
    public static UnitSession Open(PgArchive archive, ConnectionTarget target, string? journalRun = null) =>
        new(archive, archive.Entries, new RestoreOptions(), target, RestoreJournal.For(archive, new RestoreOptions()), _ => { }) { JournalRun = journalRun };

    /// <summary>Creates (or, with <paramref name="resume"/>, continues) the job's journal as the run <paramref name="run"/>.</summary>
    public static void PrepareJournal(UnitSession session, RestoreJournal journal, string path, ConnectionTarget target, string run = "run-1", bool resume = false) =>
        session.AsLoginRole(conn =>
        {
            journal.Prepare(conn, path, resume, target.ToString(), run);
            return true;
        });
}
