using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Presence.Actors.Cluster;

namespace Presence.Gateway.Operators;

/// <summary>
/// On a node that finds its peers by discovery, <c>/readyz</c> says what the bootstrap is waiting for (how many of
/// the required peers discovery found) until the node has joined, instead of only "not up".
/// </summary>
internal sealed class ClusterBootstrapReadinessCheck(ActorRegistry registry) : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!registry.TryGet<ClusterBootstrapWatchActor>(out var watch))
            return HealthCheckResult.Unhealthy("cluster bootstrap not started");
        try
        {
            var status = await watch.Ask<ClusterBootstrapWatchActor.BootstrapStatus>(ClusterBootstrapWatchActor.GetStatus.Instance, Timeout, cancellationToken).ConfigureAwait(false);
            return status.Joined ? HealthCheckResult.Healthy(status.Description) : HealthCheckResult.Unhealthy(status.Description);
        }
        catch (AskTimeoutException)
        {
            return HealthCheckResult.Unhealthy($"cluster bootstrap watch did not answer within {Timeout.TotalSeconds:0} s");
        }
    }
}
