using System.Diagnostics;
using OpenTelemetry;

namespace RestoreCluster.Hosting;

/// <summary>
/// Keeps the text of what ran on the target out of exported spans. Npgsql's command spans carry the
/// statement (<c>db.statement</c> / <c>db.query.text</c>), and an archive's statements hold secrets
/// (<c>CREATE USER MAPPING … OPTIONS (password '…')</c>, data in INSERTs, comments). Registered before the
/// exporters, this processor leaves Npgsql's spans only the attributes on its allowlist (where, as whom,
/// how it ended) and names each after its database.
/// </summary>
internal sealed class NpgsqlSpanRedaction : BaseProcessor<Activity>
{
    public const string NpgsqlSource = "Npgsql";

    private const string Unnamed = "postgresql";

    private static readonly HashSet<string> Kept = new(StringComparer.Ordinal)
    {
        "db.system", "db.system.name", "db.name", "db.namespace", "db.user", "db.connection_id",
        "db.operation.batch.size", "db.response.status_code",
        "server.address", "server.port", "network.transport", "network.peer.address", "network.peer.port",
        "net.peer.name", "net.peer.ip", "net.peer.port", "net.transport",
        "error.type", "otel.status_code",
    };

    public override void OnEnd(Activity activity)
    {
        if (activity.Source.Name != NpgsqlSource)
        {
            return;
        }

        string? database = null;
        foreach (var (key, value) in activity.TagObjects.ToList())
        {
            if (!Kept.Contains(key))
            {
                activity.SetTag(key, null);
            }
            else if (key is "db.namespace" or "db.name" && value is string name)
            {
                database = name;
            }
        }

        activity.DisplayName = database ?? Unnamed;
        // An error's description is the server's message, which can quote data ("Key (id)=(...)"): only its kind stays.
        if (activity.Status == ActivityStatusCode.Error)
        {
            activity.SetStatus(ActivityStatusCode.Error);
        }
    }
}
