namespace RestoreCluster.Testing;

/// <summary>Where the repository, its test fixtures and the built CLI are.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> Root = new(FindRepoRoot);

    /// <summary>The directory holding RestoreCluster.sln, found by walking up from the test's base directory.</summary>
    public static string RepoRoot => Root.Value;

    /// <summary>
    /// The test fixtures (<c>tests/RestoreCluster.Testing/Fixtures</c>, see its README): the copy next to the test
    /// assembly, else the one in the repository. Nothing outside the repository is read.
    /// </summary>
    public static string FixturesDirectory
    {
        get
        {
            var copied = Path.Combine(AppContext.BaseDirectory, "Fixtures");
            return File.Exists(Path.Combine(copied, "roles.sql"))
                ? copied
                : Path.Combine(RepoRoot, "tests", "RestoreCluster.Testing", "Fixtures");
        }
    }

    /// <summary>The real pg_dump 18.3 archives (version 1.16) under the fixtures.</summary>
    public static string Pg18ArchivesDirectory => Path.Combine(FixturesDirectory, "archives", "pg18");

    /// <summary>The build configuration of the running test assembly (Debug or Release), from its output path.</summary>
    public static string Configuration
    {
        get
        {
            // .../bin/<Configuration>/<tfm>/
            var tfmDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            return tfmDir.Parent?.Name is { Length: > 0 } config && tfmDir.Parent.Parent?.Name == "bin" ? config : "Release";
        }
    }

    /// <summary>
    /// The built <c>restorecluster.dll</c>: <c>src/RestoreCluster.Cli/bin/&lt;Configuration&gt;/net10.0/</c> for the
    /// test's own configuration, else the copy in the test's output directory.
    /// </summary>
    public static string CliDll
    {
        get
        {
            var tfm = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;
            var built = Path.Combine(RepoRoot, "src", "RestoreCluster.Cli", "bin", Configuration, tfm, "restorecluster.dll");
            if (File.Exists(built))
            {
                return built;
            }

            var copied = Path.Combine(AppContext.BaseDirectory, "restorecluster.dll");
            if (File.Exists(copied))
            {
                return copied;
            }

            throw new FileNotFoundException($"restorecluster.dll not built (looked at {built} and {copied}); run ./build.sh --target=Build", built);
        }
    }

    /// <summary>The <c>dotnet</c> host running this process (DOTNET_HOST_PATH when set), else <c>dotnet</c> from PATH.</summary>
    public static string DotnetHost
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(fromEnv) && File.Exists(fromEnv))
            {
                return fromEnv;
            }

            var self = Environment.ProcessPath;
            return self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
        }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RestoreCluster.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no RestoreCluster.sln above {AppContext.BaseDirectory}");
    }
}
