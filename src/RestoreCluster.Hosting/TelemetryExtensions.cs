using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using RestoreCluster.Grains;
using RestoreCluster.Restore;

namespace RestoreCluster.Hosting;

/// <summary>OpenTelemetry for a restorecluster host: our sources and meters, Orleans and Npgsql instrumentation.</summary>
public static class TelemetryExtensions
{
    public static IServiceCollection AddRestoreTelemetry(this IServiceCollection services, TelemetryOptions options, string instance)
    {
        if (!options.Enabled)
        {
            return services;
        }

        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("restorecluster", serviceInstanceId: instance))
            .WithTracing(t =>
            {
                // The redaction runs before the exporters (processors run in the order they are added).
                t.AddSource(RestoreInstruments.Name, GrainInstruments.Name, "Microsoft.Orleans.Application").AddNpgsql()
                    .AddProcessor(new NpgsqlSpanRedaction());
                if (options.OtlpEndpoint is not null)
                {
                    t.AddOtlpExporter();
                }

                if (options.Console)
                {
                    t.AddConsoleExporter();
                }
            })
            .WithMetrics(m =>
            {
                m.AddMeter(RestoreInstruments.Name, GrainInstruments.Name, "Microsoft.Orleans").AddNpgsqlInstrumentation();
                if (options.OtlpEndpoint is not null)
                {
                    m.AddOtlpExporter();
                }

                if (options.Console)
                {
                    m.AddConsoleExporter();
                }
            });
        return services;
    }
}
