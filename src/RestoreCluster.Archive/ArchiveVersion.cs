namespace RestoreCluster.Archive;

/// <summary>An archive version <c>vmaj.vmin.vrev</c>, compared as pg_dump's MAKE_ARCHIVE_VERSION does.</summary>
public readonly record struct ArchiveVersion(int Major, int Minor, int Revision) : IComparable<ArchiveVersion>
{
    public static readonly ArchiveVersion V1_12 = new(1, 12, 0);
    public static readonly ArchiveVersion V1_13 = new(1, 13, 0);
    public static readonly ArchiveVersion V1_14 = new(1, 14, 0);
    public static readonly ArchiveVersion V1_15 = new(1, 15, 0);
    public static readonly ArchiveVersion V1_16 = new(1, 16, 0);

    /// <summary>The oldest version this reader accepts (PostgreSQL 9.0).</summary>
    public static readonly ArchiveVersion Oldest = V1_12;

    /// <summary>The newest version any pg_dump writes (K_VERS_MINOR 16 in PostgreSQL 17 to 19dev).</summary>
    public static readonly ArchiveVersion Newest = new(1, 16, 255);

    public int Value => (Major << 16) | (Minor << 8) | Revision;

    public int CompareTo(ArchiveVersion other) => Value.CompareTo(other.Value);

    public static bool operator <(ArchiveVersion a, ArchiveVersion b) => a.Value < b.Value;

    public static bool operator >(ArchiveVersion a, ArchiveVersion b) => a.Value > b.Value;

    public static bool operator <=(ArchiveVersion a, ArchiveVersion b) => a.Value <= b.Value;

    public static bool operator >=(ArchiveVersion a, ArchiveVersion b) => a.Value >= b.Value;

    /// <summary>As pg_restore -l prints it: <c>1.14-0</c>.</summary>
    public override string ToString() => $"{Major}.{Minor}-{Revision}";
}
