using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Planning;
using RestoreCluster.Restore;

namespace RestoreCluster.Grains;

/// <summary>Turns the restore options into their wire form and back.</summary>
public static class JobOptionsMapping
{
    public static JobOptions ToJobOptions(this RestoreOptions o)
    {
        var s = o.Selection;
        return new JobOptions
        {
            SchemaNames = s.SchemaNames,
            ExcludeSchemaNames = s.ExcludeSchemaNames,
            TableNames = s.TableNames,
            IndexNames = s.IndexNames,
            FunctionNames = s.FunctionNames,
            TriggerNames = s.TriggerNames,
            SchemaOnly = s.SchemaOnly,
            DataOnly = s.DataOnly,
            CreateDatabase = s.CreateDatabase,
            NoPrivileges = s.NoPrivileges,
            NoComments = s.NoComments,
            NoPublications = s.NoPublications,
            NoSecurityLabels = s.NoSecurityLabels,
            NoSubscriptions = s.NoSubscriptions,
            Sections = (int)s.Sections,
            WantedIds = s.WantedIds?.Order().ToList(),
            StrictNames = s.StrictNames,
            Clean = o.Clean,
            IfExists = o.IfExists,
            NoOwner = o.NoOwner,
            UseSetSessionAuthorization = o.UseSetSessionAuthorization,
            NoTablespaces = o.NoTablespaces,
            NoTableAccessMethod = o.NoTableAccessMethod,
            Role = o.Role,
            Superuser = o.Superuser,
            DisableTriggers = o.DisableTriggers,
            EnableRowSecurity = o.EnableRowSecurity,
            NoDataForFailedTables = o.NoDataForFailedTables,
            ExitOnError = o.ExitOnError,
        };
    }

    public static RestoreOptions ToRestoreOptions(this JobOptions j) => new()
    {
        Selection = new SelectionOptions
        {
            SchemaNames = j.SchemaNames,
            ExcludeSchemaNames = j.ExcludeSchemaNames,
            TableNames = j.TableNames,
            IndexNames = j.IndexNames,
            FunctionNames = j.FunctionNames,
            TriggerNames = j.TriggerNames,
            SchemaOnly = j.SchemaOnly,
            DataOnly = j.DataOnly,
            CreateDatabase = j.CreateDatabase,
            NoPrivileges = j.NoPrivileges,
            NoComments = j.NoComments,
            NoPublications = j.NoPublications,
            NoSecurityLabels = j.NoSecurityLabels,
            NoSubscriptions = j.NoSubscriptions,
            Sections = (RestoreSections)j.Sections,
            WantedIds = j.WantedIds?.ToHashSet(),
            StrictNames = j.StrictNames,
        },
        Clean = j.Clean,
        IfExists = j.IfExists,
        NoOwner = j.NoOwner,
        UseSetSessionAuthorization = j.UseSetSessionAuthorization,
        NoTablespaces = j.NoTablespaces,
        NoTableAccessMethod = j.NoTableAccessMethod,
        Role = j.Role,
        Superuser = j.Superuser,
        DisableTriggers = j.DisableTriggers,
        EnableRowSecurity = j.EnableRowSecurity,
        NoDataForFailedTables = j.NoDataForFailedTables,
        ExitOnError = j.ExitOnError,
    };
}
