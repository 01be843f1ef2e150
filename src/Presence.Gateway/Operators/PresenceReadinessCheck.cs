using Akka.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Presence.Actors.Hosting;
using Presence.Gateway.Connections;

namespace Presence.Gateway.Operators;

/// <summary>
/// Ready when the presence manager answers a read quickly and the connections supervisor exists, i.e. when
/// a client that connects now would get its hello. A cluster node is also checked for having joined (Akka's own
/// cluster readiness check, registered by <see cref="OperatorsHosting"/>).
/// </summary>
internal sealed class PresenceReadinessCheck(IPresenceQueries presence, ActorRegistry registry) : IHealthCheck
{
    /// <summary>Shorter than a scraper's usual timeout, so a stuck manager reads as not ready instead of as a hung probe.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!registry.TryGet<ConnectionsSupervisorActor>(out _))
            return HealthCheckResult.Unhealthy("connections supervisor not started");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            var snapshot = await presence.GetPresenceAsync(timeout.Token).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"presence-manager answered: {snapshot.Entries.Length} rows");
        }
        catch (PresenceUnavailableException ex)
        {
            return HealthCheckResult.Unhealthy(ex.Message);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"presence-manager did not answer within {Timeout.TotalSeconds:0} s");
        }
    }
}
