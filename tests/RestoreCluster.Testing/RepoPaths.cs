namespace RestoreCluster.Testing;

/// <summary>Where the repository, the shared directory beside it, and the built CLI are.</summary>
public static class RepoPaths
{
    /// <summary>Environment variable overriding the shared directory (the one holding fixtures/ and docs/).</summary>
    public const string SharedVariable = "RESTORECLUSTER_SHARED";

    private static readonly Lazy<string> Root = new(FindRepoRoot);

    /// <summary>The directory holding RestoreCluster.sln, found by walking up from the test's base directory.</summary>
    public static string RepoRoot => Root.Value;

    /// <summary><c>$RESTORECLUSTER_SHARED</c>, else <c>&lt;repo&gt;/../shared</c>, else the nearest ancestor's <c>shared/</c> with the fixtures.</summary>
    public static string SharedDirectory
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable(SharedVariable);
            if (!string.IsNullOrWhiteSpace(fromEnv))
            {
                return Path.GetFullPath(fromEnv);
            }

            var beside = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
            if (HasFixtures(beside))
            {
                return beside;
            }

            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared");
                if (HasFixtures(candidate))
                {
                    return candidate;
                }
            }

            throw new DirectoryNotFoundException(
                $"shared directory not found: set {SharedVariable} or put shared/ (with fixtures/rich-schema.sql) beside {RepoRoot}");
        }
    }

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

    private static bool HasFixtures(string shared) => File.Exists(Path.Combine(shared, "fixtures", "rich-schema.sql"));

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
