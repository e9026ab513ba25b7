namespace RestoreCluster.Hosting;

/// <summary>Where telemetry goes: OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, the console with --otel-console.</summary>
public sealed record TelemetryOptions(string? OtlpEndpoint, bool Console)
{
    public static TelemetryOptions FromEnvironment(bool console) =>
        new(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") is { Length: > 0 } e ? e : null, console);

    public bool Enabled => OtlpEndpoint is not null || Console;
}
