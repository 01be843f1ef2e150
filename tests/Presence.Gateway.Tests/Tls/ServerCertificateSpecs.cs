using System.Net;
using Presence.Gateway.Tls;
using Xunit;

namespace Presence.Gateway.Tests.Tls;

/// <summary>Renewal without a restart, on the clock the certificate is given: when the files are looked at, and what a bad file does.</summary>
public sealed class ServerCertificateSpecs
{
    /// <summary>A clock that moves only when told: the check interval is then exact, not a race with the machine.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    [Fact]
    public void Should_look_at_the_files_once_per_interval_and_keep_serving_the_old_certificate_while_the_new_files_do_not_load()
    {
        using var files = TestCertificates.TemporaryDirectory();
        var (certificatePath, keyPath) = (files.File("gateway.crt"), files.File("gateway.key"));
        var original = TestCertificates.Write(certificatePath, keyPath, "original");
        var clock = new ManualClock();
        var certificate = ServerCertificate.Open(new TlsSettings(certificatePath, keyPath, Auto: false, files.Path), IPAddress.Loopback, clock);
        var reloaded = new List<string>();
        var failures = new List<Exception>();
        certificate.Reloaded += reloaded.Add;
        certificate.ReloadFailed += failures.Add;

        // Half-way through a copy: the certificate file is cut short.
        File.WriteAllText(certificatePath, File.ReadAllText(certificatePath)[..40]);
        Assert.Equal(CertificateFingerprint.Sha256(original), certificate.Fingerprint);
        clock.Advance(ServerCertificate.CheckInterval);
        Assert.Equal(CertificateFingerprint.Sha256(original), certificate.Fingerprint);
        Assert.Single(failures);
        // Reported once, not at every handshake.
        clock.Advance(ServerCertificate.CheckInterval);
        Assert.Equal(original.Thumbprint, certificate.ServerOptions().ServerCertificateContext!.TargetCertificate.Thumbprint);
        Assert.Single(failures);

        var renewed = TestCertificates.Write(certificatePath, keyPath, "renewed");
        Assert.Equal(CertificateFingerprint.Sha256(original), certificate.Fingerprint);
        clock.Advance(ServerCertificate.CheckInterval);

        Assert.Equal(CertificateFingerprint.Sha256(renewed), certificate.Fingerprint);
        Assert.Equal(renewed.Thumbprint, certificate.ServerOptions().ServerCertificateContext!.TargetCertificate.Thumbprint);
        Assert.Equal([CertificateFingerprint.Sha256(renewed)], reloaded);
    }
}
