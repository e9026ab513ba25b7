using System.Globalization;
using System.Text.Json;
using RestoreCluster.Planning;

namespace RestoreCluster.Cli.Tune;

/// <summary><c>tune</c>'s findings: every trial in the order of <c>--jobs</c>, and the advice; as a table or one JSON object.</summary>
internal sealed record TuneReport(
    string Archive, string Target, int ServerVersion, long SampleBytes, IReadOnlyList<TuneRun> Runs, JobsAdvice Advice, string PlotPath, long DataBytes)
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public bool Sampled => SampleBytes > 0;

    /// <summary>The server's version as people write it (<c>15.18</c>).</summary>
    public string ServerVersionText => ServerVersion >= 100000
        ? string.Create(C, $"{ServerVersion / 10000}.{ServerVersion % 10000}")
        : string.Create(C, $"{ServerVersion / 10000}.{ServerVersion / 100 % 100}.{ServerVersion % 100}");

    public void WriteText(TextWriter w)
    {
        w.WriteLine(string.Create(C, $"tune of {Archive} on {Target} (PostgreSQL {ServerVersionText}), {ByteSize.Format(DataBytes)} of table data in the archive"));
        if (Sampled)
        {
            int fk = Runs.Sum(r => r.SampleErrors);
            w.WriteLine(string.Create(C,
                $"sampled: the whole schema, but only the first {ByteSize.Format(SampleBytes)} of each table's data; {fk} foreign key error{(fk == 1 ? "" : "s")} on the cut data counted apart, not as faults"));
        }

        string[] head = ["-j", "wall s", "pre-data s", "data s", "post-data s", "errors", "read MB", "written MB", "WAL MB", "checkpoints", "sessions (sampled)"];
        var rows = new List<string[]> { head };
        foreach (var r in Runs)
        {
            rows.Add(
            [
                r.Trial.Jobs.ToString(C),
                r.Trial.Finished ? r.Trial.WallSeconds.ToString("0.00", C) : r.State.ToString().ToLowerInvariant(),
                r.Phases.PreData.ToString("0.00", C), r.Phases.Data.ToString("0.00", C), r.Phases.PostData.ToString("0.00", C),
                r.Errors.ToString(C),
                Megabytes(r.Server.ReadBytes), Megabytes(r.Server.WriteBytes + r.Server.ExtendBytes), Megabytes(r.Server.WalBytes),
                r.Server.Checkpoints.ToString(C), Waits(r.Trial.WaitShares),
            ]);
        }

        int[] widths = [.. Enumerable.Range(0, head.Length).Select(i => rows.Max(row => row[i].Length))];
        foreach (var row in rows)
        {
            // Numbers right-aligned, the last column (words) left-aligned.
            w.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadLeft(widths[i]))).TrimEnd());
        }

        if (Runs.FirstOrDefault() is { } first)
        {
            w.WriteLine($"server figures from {first.Server.Source}; sessions: share of sampled session time, every {WaitSampler.Period.TotalMilliseconds:0} ms");
        }

        w.WriteLine(Advice.Jobs is { } j
            ? string.Create(C, $"recommended: -j {j} --host-budget {Advice.HostBudget}")
            : "recommended: nothing");
        w.WriteLine($"reason: {Advice.Reason}");
        w.WriteLine($"plot: {PlotPath}");
    }

    public void WriteJson(TextWriter w)
    {
        using var stream = new MemoryStream();
        using (var j = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            j.WriteStartObject();
            j.WriteString("archive", Archive);
            j.WriteString("target", Target);
            j.WriteString("serverVersion", ServerVersionText);
            j.WriteNumber("dataBytes", DataBytes);
            j.WriteBoolean("sampled", Sampled);
            if (Sampled)
            {
                j.WriteNumber("sampleBytes", SampleBytes);
            }
            else
            {
                j.WriteNull("sampleBytes");
            }

            j.WriteStartArray("runs");
            foreach (var r in Runs)
            {
                j.WriteStartObject();
                j.WriteNumber("jobs", r.Trial.Jobs);
                j.WriteString("state", r.State.ToString().ToLowerInvariant());
                j.WriteNumber("wallSeconds", Math.Round(r.Trial.WallSeconds, 3));
                j.WriteStartObject("phases");
                j.WriteNumber("preData", Math.Round(r.Phases.PreData, 3));
                j.WriteNumber("data", Math.Round(r.Phases.Data, 3));
                j.WriteNumber("postData", Math.Round(r.Phases.PostData, 3));
                j.WriteEndObject();
                j.WriteNumber("rows", r.Rows);
                j.WriteNumber("errors", r.Errors);
                j.WriteNumber("sampleErrors", r.SampleErrors);
                if (r.Failure is { } failure)
                {
                    j.WriteString("failure", failure);
                }

                j.WriteStartObject("server");
                j.WriteString("source", r.Server.Source);
                j.WriteNumber("readBytes", r.Server.ReadBytes);
                j.WriteNumber("writeBytes", r.Server.WriteBytes);
                j.WriteNumber("extendBytes", r.Server.ExtendBytes);
                j.WriteNumber("walBytes", r.Server.WalBytes);
                j.WriteNumber("checkpoints", r.Server.Checkpoints);
                j.WriteEndObject();
                j.WriteStartObject("waits");
                foreach (var (key, share) in r.Trial.WaitShares.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    j.WriteNumber(key, Math.Round(share, 4));
                }

                j.WriteEndObject();
                j.WriteNumber("waitSamples", r.Samples);
                j.WriteEndObject();
            }

            j.WriteEndArray();
            if (Advice.Jobs is { } jobs)
            {
                j.WriteNumber("recommendedJobs", jobs);
                j.WriteNumber("recommendedHostBudget", Advice.HostBudget!.Value);
            }
            else
            {
                j.WriteNull("recommendedJobs");
                j.WriteNull("recommendedHostBudget");
            }

            j.WriteString("reason", Advice.Reason);
            j.WriteString("plot", PlotPath);
            j.WriteEndObject();
        }

        w.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    /// <summary>The two largest shares of session time, e.g. <c>CPU 61%, DataFileWrite 20%</c>.</summary>
    private static string Waits(IReadOnlyDictionary<string, double> shares) =>
        shares.Count == 0
            ? "-"
            : string.Join(", ", shares.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(2)
                .Select(kv => string.Create(C, $"{JobsAdvice.EventName(kv.Key)} {kv.Value * 100:0}%")));

    private static string Megabytes(long bytes) => (bytes / 1048576.0).ToString("0.0", C);
}
