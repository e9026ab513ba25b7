using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using RestoreCluster.Planning;

namespace RestoreCluster.Restore;

/// <summary>
/// The one serialized form of <see cref="RestoreOptions"/> (with its <see cref="SelectionOptions"/>): what a
/// job's options are on the wire between grains and what the journal's options fingerprint is taken of. Every
/// property travels and is fingerprinted without being listed again, so an option added to the records is
/// carried everywhere at once.
/// </summary>
public static class RestoreOptionsJson
{
    public static string Serialize(RestoreOptions options) => JsonSerializer.Serialize(options, OptionsJsonContext.Default.RestoreOptions);

    public static RestoreOptions Deserialize(string json) =>
        JsonSerializer.Deserialize(json, OptionsJsonContext.Default.RestoreOptions)
        ?? throw new JsonException("restore options are null");

    /// <summary>
    /// SHA-256 of everything that changes what a restore does to the target. Left out: how it reports
    /// (<c>-v</c>), the script's <c>\restrict</c> key, <c>-e</c>, which only decides when to stop (a
    /// restore stopped by an error may be resumed without it), and the session settings of units
    /// (<c>--no-async-commit</c>, <c>--no-copy-freeze</c>, <c>--host-memory</c>) and how keys are built
    /// (<c>--no-keys-as-indexes</c>, <c>--no-fk-not-valid</c>) and whether pre-data runs in groups
    /// (<c>--serial-pre-data</c>: the same entries, journaled alike), which change how fast, not what, and <c>--analyze</c>,
    /// whose statistics pg_dump does not show (a resume with it analyzes what is left to analyze; one without it
    /// analyzes nothing more). The split threshold (<c>--split-larger-than</c>) is left out too: what counts is the
    /// chunks it cuts, which the journal adds (<see cref="RestoreJournal.For"/>), so a --resume with another threshold
    /// or -j that cuts the same chunks goes on.
    /// </summary>
    public static string Fingerprint(RestoreOptions options)
    {
        var relevant = options with
        {
            Verbose = false, RestrictKey = null, ExitOnError = false, NoAsyncCommit = false, NoCopyFreeze = false, Analyze = false, HostMemory = 0,
            NoKeysAsIndexes = false, NoFkNotValid = false, SplitLargerThan = 0, SerialPreData = false,
        };
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Serialize(relevant))));
    }
}

/// <summary>Writes a set of dump IDs in ascending order, so that equal sets serialize (and fingerprint) alike.</summary>
internal sealed class SortedIdSetConverter : JsonConverter<IReadOnlySet<int>>
{
    public override IReadOnlySet<int> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var ids = new HashSet<int>();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("a set of dump IDs must be an array");
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            ids.Add(reader.GetInt32());
        }

        return ids;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlySet<int> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (int id in value.Order())
        {
            writer.WriteNumberValue(id);
        }

        writer.WriteEndArray();
    }
}

[JsonSourceGenerationOptions(Converters = [typeof(SortedIdSetConverter)])]
[JsonSerializable(typeof(RestoreOptions))]
internal sealed partial class OptionsJsonContext : JsonSerializerContext;
