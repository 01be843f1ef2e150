using Microsoft.Extensions.Diagnostics.HealthChecks;
using Presence.Gateway.Tls;

namespace Presence.Gateway.Operators;

/// <summary>
/// <c>/healthz</c> names the certificate in service, so that an operator (or a client about to pin it) can read the
/// fingerprint from a running gateway. Degraded, not unhealthy, when it is about to expire or has: a restart would
/// not help, a new certificate would.
/// </summary>
internal sealed class TlsHealthCheck(ServerCertificate certificate, TimeProvider time) : IHealthCheck
{
    private static readonly TimeSpan ExpiryWarning = TimeSpan.FromDays(14);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var served = certificate.Certificate;
        var notAfter = new DateTimeOffset(served.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        var data = new Dictionary<string, object>
        {
            ["fingerprint"] = certificate.Fingerprint,
            ["subject"] = served.Subject,
            ["notAfter"] = notAfter.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["selfSigned"] = certificate.SelfSigned,
        };
        var description = $"SHA-256 {certificate.Fingerprint}";
        return Task.FromResult(notAfter - time.GetUtcNow() < ExpiryWarning
            ? HealthCheckResult.Degraded($"{description}; expires {notAfter:yyyy-MM-dd}", data: data)
            : HealthCheckResult.Healthy(description, data));
    }
}
