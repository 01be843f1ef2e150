using System.Text.Json;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Presence.Actors.Cluster;
using Presence.Actors.PresenceManager;
using Presence.Gateway.Tls;

namespace Presence.Gateway.Operators;

/// <summary>
/// What operators get besides the WebSocket: the Instances page, <c>/healthz</c>, <c>/readyz</c> and a
/// Prometheus <c>/metrics</c>. <see cref="GatewayApp"/> calls the three methods; nothing here is on the
/// connection path.
/// </summary>
internal static class OperatorsHosting
{
    /// <summary>Health checks tagged so are run by <c>/healthz</c>; <c>/readyz</c> runs every check.</summary>
    public const string LiveTag = "live";

    private const string ReadyTag = "ready";

    /// <summary>
    /// Inside <c>AddAkka</c>: the actor-system liveness check and, on a cluster node, readiness only once the node
    /// has joined: before that its list holds no other node's rows, so a client sent to it would see a partial view.
    /// </summary>
    public static AkkaConfigurationBuilder AddOperators(this AkkaConfigurationBuilder akka, bool clustered)
    {
        akka.WithActorSystemLivenessCheck(tags: [LiveTag]);
        if (clustered)
            akka.WithAkkaClusterReadinessCheck(tags: [ReadyTag]);
        return akka;
    }

    /// <summary>
    /// Health checks and metrics. With TLS on, <c>/healthz</c> also shows the certificate in service; a node that
    /// joins by Cluster Bootstrap also says in <c>/readyz</c> what it is waiting for.
    /// </summary>
    public static IServiceCollection AddOperators(this IServiceCollection services, ServerCertificate? certificate, bool bootstraps)
    {
        var checks = services.AddHealthChecks().AddCheck<PresenceReadinessCheck>("presence", tags: [ReadyTag]);
        if (certificate is not null)
            checks.AddCheck("tls", new TlsHealthCheck(certificate, TimeProvider.System), tags: [LiveTag]);
        if (bootstraps)
            checks.AddCheck<ClusterBootstrapReadinessCheck>("cluster-bootstrap", tags: [ReadyTag]);
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("presence-gateway", serviceVersion: GatewayApp.Version))
            .WithMetrics(metrics => metrics
                .AddMeter(GatewayMetrics.MeterName, PresenceInstruments.MeterName, ClusterInstruments.MeterName)
                // ASP.NET Core's own meters: request and Kestrel connection counts cost nothing extra.
                .AddMeter("Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
                // The runtime's own: GC collections and heap sizes per generation, thread pool, working set.
                .AddMeter("System.Runtime")
                // No cached scrape: a scrape shows the counters as they are now (scrapes are rare and cheap).
                .AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0));
        return services;
    }

    public static WebApplication MapOperators(this WebApplication app)
    {
        foreach (var path in InstancesPage.AssetPaths)
            app.Map(path, context => InstancesPage.ServeAsync(context, path));
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = check => check.Tags.Contains(LiveTag), ResponseWriter = WriteHealthAsync });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { ResponseWriter = WriteHealthAsync });
        GatewayMetrics.CreateInstruments();
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    /// <summary>The page, for a plain GET of <c>/</c> (the WebSocket upgrade shares that path).</summary>
    public static Task ServeInstancesPageAsync(HttpContext context) => InstancesPage.ServeAsync(context, "/");

    /// <summary>
    /// <c>{"status":"Healthy","checks":{"presence":{"status":"Healthy","description":…}}}</c>, a check's details under
    /// <c>data</c> when it has any (the TLS fingerprint); the status code says the same (200 or 503).
    /// </summary>
    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new Dictionary<string, object>
        {
            ["status"] = report.Status.ToString(),
            ["checks"] = report.Entries.ToDictionary(entry => entry.Key, entry => Check(entry.Value)),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body), context.RequestAborted);
    }

    private static Dictionary<string, object?> Check(HealthReportEntry entry)
    {
        var check = new Dictionary<string, object?> { ["status"] = entry.Status.ToString(), ["description"] = entry.Description };
        if (entry.Data.Count > 0)
            check["data"] = entry.Data;
        return check;
    }
}
