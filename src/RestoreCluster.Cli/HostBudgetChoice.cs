using System.CommandLine;
using System.Globalization;
using RestoreCluster.Grains.Abstractions;

namespace RestoreCluster.Cli;

/// <summary>
/// <c>--host-budget N|auto[:MAX]</c> with <c>--protect MS</c> and <c>--probe-sql SQL</c>: a fixed budget (default: <c>-j</c>)
/// or an adaptive one (docs/concurrency.md). <c>auto</c> without MAX allows <c>-j</c> units, plus the probe's session
/// with <c>--protect</c>.
/// </summary>
internal sealed record HostBudgetChoice(int Fixed, AdaptiveBudgetSpec? Adaptive)
{
    /// <summary>The job's host budget field: the fixed budget, or an adaptive one's maximum.</summary>
    public int HostBudget => Adaptive?.Max ?? Fixed;

    /// <summary>Whether the budget protects the server (<c>--protect</c>): its probe paces the units.</summary>
    public bool Protects => Adaptive is { ProtectMs: > 0 };

    /// <summary>
    /// The job's options under this budget. An adaptive budget starts at one permit and raises it while the units'
    /// throughput grows (docs/concurrency.md, "Adaptive budgets"): the quick CREATE TABLEs of pre-data groups would
    /// inflate the first windows' throughput, and the data's slower units would then never look like growth. So under
    /// it all of pre-data runs on one session, as pg_restore's (<c>--serial-pre-data</c>).
    /// </summary>
    public Restore.RestoreOptions OptionsFor(Restore.RestoreOptions options) => Adaptive is null ? options : options with { SerialPreData = true };

    /// <summary>The choice the options make; a usage error (exit code 2) for one that makes no sense.</summary>
    public static HostBudgetChoice From(ParseResult p, RestoreOptionsSpec s)
    {
        int jobs = p.GetValue(s.Jobs);
        string? text = p.GetValue(s.HostBudget)?.Trim();
        double? protect = p.GetValue(s.Protect);
        string? probe = p.GetValue(s.ProbeSql);
        if (protect is { } ms && !(ms > 0 && double.IsFinite(ms)))
        {
            throw new CliError("--protect must be a number of milliseconds above 0", ExitCodes.Usage);
        }

        if (probe is not null && protect is null)
        {
            throw new CliError("--probe-sql needs --protect (the probe guards a latency)", ExitCodes.Usage);
        }

        if (probe is { } sql && string.IsNullOrWhiteSpace(sql))
        {
            throw new CliError("--probe-sql must not be empty", ExitCodes.Usage);
        }

        if (text is null || !text.StartsWith("auto", StringComparison.OrdinalIgnoreCase))
        {
            if (protect is not null)
            {
                throw new CliError("--protect needs an adaptive budget: --host-budget auto[:MAX]", ExitCodes.Usage);
            }

            if (text is null)
            {
                return new HostBudgetChoice(jobs, null);
            }

            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1
                ? new HostBudgetChoice(n, null)
                : throw Invalid(text);
        }

        int max;
        if (text.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            max = jobs + (protect is null ? 0 : 1);
        }
        else if (text.Length > 5 && text[4] == ':' && int.TryParse(text.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out max) && max >= 1)
        {
            if (protect is not null && max < 2)
            {
                throw new CliError(
                    $"--host-budget {text} with --protect leaves no session for units: the probe takes one (use auto:2 or more)", ExitCodes.Usage);
            }
        }
        else
        {
            throw Invalid(text);
        }

        return new HostBudgetChoice(max, new AdaptiveBudgetSpec(max, protect ?? 0, probe));
    }

    /// <summary>Gives the target server's budget grain this choice (the probe connects to <paramref name="target"/>).</summary>
    public Task ApplyAsync(IHostBudgetGrain budget, IReadOnlyDictionary<string, string> target) =>
        Adaptive is { } adaptive ? budget.SetAdaptive(adaptive, target) : budget.SetBudget(Fixed);

    private static CliError Invalid(string text) =>
        new($"invalid --host-budget \"{text}\": a number of at least 1, auto or auto:MAX", ExitCodes.Usage);
}
