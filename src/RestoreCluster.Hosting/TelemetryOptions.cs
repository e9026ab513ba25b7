namespace RestoreCluster.Hosting;

/// <summary>Where telemetry goes: OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, the console with --otel-console.</summary>
public sealed record TelemetryOptions(string? OtlpEndpoint, bool Console)
{
    public static TelemetryOptions FromEnvironment(bool console) =>
        new(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") is { Length: > 0 } e ? e : null, console);

    public bool Enabled => OtlpEndpoint is not null || Console;

    /// <summary>
    /// The OTEL_* variables of the environment, for a host's configuration. Our hosts leave the environment out of their
    /// configuration (DisableDefaults), but the OpenTelemetry SDK reads its settings (OTEL_EXPORTER_OTLP_ENDPOINT and
    /// _PROTOCOL, OTEL_BSP_SCHEDULE_DELAY, OTEL_METRIC_EXPORT_INTERVAL, ...) from there: only these go in, so nothing
    /// else in the environment configures the host.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, string?>> EnvironmentSettings() =>
        System.Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Select(e => new KeyValuePair<string, string?>((string)e.Key, (string?)e.Value))
            .Where(e => e.Key.StartsWith("OTEL_", StringComparison.Ordinal))
            .ToList();
}
