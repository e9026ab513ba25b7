using System.Text.RegularExpressions;
using RestoreCluster.Archive;
using RestoreCluster.Restore;

namespace RestoreCluster.Cli.Fleet;

/// <summary>
/// A fleet dry run's checks of one restore against what its target server holds (TargetSurvey), before anything
/// runs: the roles its archive names as owners and in its ACLs exist or the host's globals create them, and the
/// database is as -C and -c expect. Pure: the survey is read elsewhere.
/// </summary>
internal static partial class FleetChecks
{
    /// <summary>The roles the restore needs on its server: the entries' owners (not with -O) and ACLs' grantees and grantors (not with -x), and --role.</summary>
    public static IReadOnlySet<string> RolesNamed(IReadOnlyList<TocEntry> entries, RestoreOptions options)
    {
        var roles = new HashSet<string>(StringComparer.Ordinal);
        if (options.Role is { } role)
        {
            roles.Add(role);
        }

        foreach (var entry in entries)
        {
            if (!options.NoOwner && !string.IsNullOrEmpty(entry.Owner))
            {
                roles.Add(entry.Owner);
            }

            if (!options.Selection.NoPrivileges && entry.Desc is "ACL" or "DEFAULT ACL" && entry.Defn is { } acl)
            {
                foreach (string name in RolesIn(acl))
                {
                    roles.Add(name);
                }
            }
        }

        return roles;
    }

    /// <summary>The role names after TO, FROM and FOR ROLE in pg_dump's GRANT, REVOKE and ALTER DEFAULT PRIVILEGES (PUBLIC is no role).</summary>
    public static IEnumerable<string> RolesIn(string sql)
    {
        foreach (Match m in AclRoles().Matches(sql))
        {
            foreach (Capture c in m.Groups["role"].Captures)
            {
                if (c.Value != "PUBLIC")
                {
                    yield return Unquote(c.Value);
                }
            }
        }
    }

    /// <summary>The roles a globals file's statements create (pg_dumpall writes <c>CREATE ROLE name;</c>).</summary>
    public static IReadOnlySet<string> RolesCreated(IEnumerable<string> statements) =>
        statements.Select(s => CreateRole().Match(s)).Where(m => m.Success).Select(m => Unquote(m.Groups["role"].Value)).ToHashSet(StringComparer.Ordinal);

    /// <summary>What is wrong with the restore's database on its server, or null: -C makes it (it must not be there unless -c drops it first); without -C it must be there.</summary>
    public static string? DatabaseProblem(IReadOnlyList<TocEntry> entries, RestoreOptions options, ConnectionTarget target, IReadOnlySet<string> databases)
    {
        if (!options.Selection.CreateDatabase)
        {
            return databases.Contains(target.Database) ? null : $"database \"{target.Database}\" does not exist on {target.HostLabel} (without -C it must)";
        }

        if (entries.FirstOrDefault(e => e.Desc == "DATABASE") is not { } database)
        {
            return null;
        }

        return databases.Contains(database.Tag) && !options.Clean
            ? $"database \"{database.Tag}\" already exists on {target.HostLabel}: -C without -c would fail to create it"
            : null;
    }

    private static string Unquote(string name) => name.StartsWith('"') ? name[1..^1].Replace("\"\"", "\"", StringComparison.Ordinal) : name;

    private const string Identifier = "(?<role>\"(?:[^\"]|\"\")+\"|[A-Za-z_][A-Za-z0-9_$]*)";

    [GeneratedRegex(@"\b(?:TO|FROM|FOR ROLE|GRANTED BY)\s+" + Identifier + @"(?:\s*,\s*" + Identifier + ")*")]
    private static partial Regex AclRoles();

    [GeneratedRegex(@"^\s*CREATE ROLE\s+" + Identifier, RegexOptions.Multiline)]
    private static partial Regex CreateRole();
}
