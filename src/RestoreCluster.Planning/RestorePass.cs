using RestoreCluster.Archive;

namespace RestoreCluster.Planning;

/// <summary>The three passes of a restore (RestorePass in pg_backup_archiver.h).</summary>
public enum RestorePass
{
    Main = 1,
    Acl = 2,
    PostAcl = 3,
}

/// <summary>pg_backup_archiver.c _tocEntryRestorePass.</summary>
public static class RestorePasses
{
    public static RestorePass Of(TocEntry te)
    {
        if (te.Desc is "ACL" or "ACL LANGUAGE" or "DEFAULT ACL")
        {
            return RestorePass.Acl;
        }

        // Matview refreshes and event triggers come after ACLs; so do event triggers' comments, and
        // (PostgreSQL 18) post-data statistics.
        if (te.Desc is "EVENT TRIGGER" or "MATERIALIZED VIEW DATA"
            || (te.Desc == "COMMENT" && te.Tag.StartsWith("EVENT TRIGGER ", StringComparison.Ordinal))
            || (te.Desc == "STATISTICS DATA" && te.Section == ArchiveSection.PostData))
        {
            return RestorePass.PostAcl;
        }

        return RestorePass.Main;
    }
}
