using RestoreCluster.Testing;
using Xunit;

namespace RestoreCluster.Cli.Tests;

/// <summary>
/// The repository stands alone: a user who clones it has nothing beside it, so no file of it but prose may
/// name the reference folder next to the developers' checkout, and the fixtures the tests read are inside it.
/// </summary>
public sealed class StandaloneRepositoryTests
{
    // Spelled in two pieces so that this file does not name it itself.
    private static readonly string Outside = "../" + "shared";

    [Fact]
    public void NoFileButMarkdownNamesAFolderOutsideTheRepository()
    {
        var naming = RepositoryFiles()
            .Where(f => !f.EndsWith(".md", StringComparison.Ordinal))
            .Where(f => File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, f)).Contains(Outside, StringComparison.Ordinal))
            .ToList();

        Assert.Empty(naming);
    }

    [Fact]
    public void TheFixturesAreInTheRepositoryWithAReadmeNamingEachOne()
    {
        string fixtures = Path.Combine(RepoPaths.RepoRoot, "tests", "RestoreCluster.Testing", "Fixtures");
        string readme = File.ReadAllText(Path.Combine(fixtures, "README.md"));

        foreach (string file in Directory.EnumerateFiles(fixtures, "*.sql"))
        {
            Assert.Contains($"`{Path.GetFileName(file)}`", readme, StringComparison.Ordinal);
        }

        Assert.Contains("`archives/pg18/*`", readme, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(fixtures, "archives", "README.md")));
    }

    /// <summary>The files git tracks (in a checkout), else every file below the root but build output.</summary>
    private static List<string> RepositoryFiles()
    {
        string root = RepoPaths.RepoRoot;
        if (Directory.Exists(Path.Combine(root, ".git")) || File.Exists(Path.Combine(root, ".git")))
        {
            var listed = ProcessRunner.RunAsync("git", ["-C", root, "ls-files", "-z"], timeout: TimeSpan.FromMinutes(1)).GetAwaiter().GetResult();
            listed.EnsureSuccess();
            return listed.StdoutText.Split('\0', StringSplitOptions.RemoveEmptyEntries)
                .Where(f => File.Exists(Path.Combine(root, f)))
                .ToList();
        }

        string[] skipped = ["bin", "obj", "artifacts", "TestResults"];
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f))
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(skipped.Contains))
            .ToList();
    }
}
