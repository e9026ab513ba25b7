namespace RestoreCluster.Testing;

/// <summary>How a fixture archive was written by the real pg_dump.</summary>
public enum FixtureArchiveKind
{
    /// <summary><c>pg_dump -Fc -f FILE</c> (gzip, data offsets set).</summary>
    Custom,

    /// <summary><c>pg_dump -Fc -Z0 -f FILE</c>.</summary>
    CustomUncompressed,

    /// <summary><c>pg_dump -Fc &gt; FILE</c>: written to a pipe, so the TOC has no data offsets.</summary>
    CustomPiped,

    /// <summary><c>pg_dump -Fd -f DIR</c> (gzip).</summary>
    Directory,

    /// <summary><c>pg_dump -Fd -Z0 -f DIR</c>.</summary>
    DirectoryUncompressed,

    /// <summary><c>pg_dump -Ft -f FILE</c>.</summary>
    Tar,
}

/// <summary>
/// One archive made by the real pg_dump from a fixture database.
/// <see cref="Name"/> is <c>&lt;fixture&gt;.&lt;variant&gt;</c>, e.g. <c>rich.custom</c>, <c>nasty.directory-z0</c>.
/// </summary>
public sealed record FixtureArchive(string Name, string Fixture, FixtureArchiveKind Kind, string Path, string SourceDatabase)
{
    /// <summary>The variant part of the name: custom, custom-z0, piped, directory, directory-z0, tar.</summary>
    public static string VariantOf(FixtureArchiveKind kind) => kind switch
    {
        FixtureArchiveKind.Custom => "custom",
        FixtureArchiveKind.CustomUncompressed => "custom-z0",
        FixtureArchiveKind.CustomPiped => "piped",
        FixtureArchiveKind.Directory => "directory",
        FixtureArchiveKind.DirectoryUncompressed => "directory-z0",
        FixtureArchiveKind.Tar => "tar",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public bool IsDirectory => Kind is FixtureArchiveKind.Directory or FixtureArchiveKind.DirectoryUncompressed;

    public bool IsCompressed => Kind is FixtureArchiveKind.Custom or FixtureArchiveKind.CustomPiped or FixtureArchiveKind.Directory;

    /// <summary>pg_dump's <c>-F</c> letter: c, d or t.</summary>
    public char FormatLetter => Kind switch
    {
        FixtureArchiveKind.Tar => 't',
        FixtureArchiveKind.Directory or FixtureArchiveKind.DirectoryUncompressed => 'd',
        _ => 'c',
    };

    public override string ToString() => Name;
}

/// <summary>A fixture database loaded on the fixture server.</summary>
public sealed record FixtureDatabase(string Fixture, string Database, string Encoding, string ScriptPath);
