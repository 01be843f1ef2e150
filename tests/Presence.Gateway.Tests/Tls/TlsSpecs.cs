using System.Net;
using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Presence.Gateway.Tests.Conformance;
using Presence.Gateway.Tls;
using Xunit;
using static Presence.Gateway.Tests.Conformance.Frames;

namespace Presence.Gateway.Tests.Tls;

/// <summary>
/// TLS on the gateway itself (wss:// and https:// on one port), over real sockets: the self-signed certificate of
/// <c>--tls-auto</c>, given PEM files and their renewal without a restart, and clients that pin by fingerprint.
/// </summary>
public sealed class TlsSpecs
{
    private static string GivenFiles(string certificate, string key) => $"gateway.tls.cert = \"{certificate}\"\ngateway.tls.key = \"{key}\"";

    private static byte[] Sha256(X509Certificate2 certificate) => certificate.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256);

    [Fact]
    public async Task Should_serve_wss_with_a_self_signed_certificate_that_a_pinned_client_accepts()
    {
        using var data = TestCertificates.TemporaryDirectory();
        await using var gateway = await TestGateway.StartAsync(TestCertificates.AutoTls(data.Path));
        var pin = Sha256(TestCertificates.Generated(data.Path));

        Assert.Equal("wss", gateway.Url.Scheme);
        await using var client = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice("over-tls"), pinnedSha256: pin);
        var list = await client.SystemPresenceAsync();

        Assert.True(HasInstance(list, "over-tls"));
        Assert.True(HasInstance(list, TestGateway.SelfInstanceId));
    }

    [Fact]
    public async Task Should_refuse_the_connection_when_the_pinned_fingerprint_is_not_the_gateways()
    {
        using var data = TestCertificates.TemporaryDirectory();
        await using var gateway = await TestGateway.StartAsync(TestCertificates.AutoTls(data.Path));
        var wrong = Sha256(TestCertificates.Generated(data.Path));
        wrong[0] ^= 0xFF;

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => gateway.ConnectAsync(pinnedSha256: wrong));

        Assert.Contains(Causes(refused), cause => cause is System.Security.Authentication.AuthenticationException);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Should_keep_the_generated_certificate_owner_only_and_reuse_it_on_the_next_start()
    {
        using var data = TestCertificates.TemporaryDirectory();
        string first;
        byte[] pin;
        await using (var gateway = await TestGateway.StartAsync(TestCertificates.AutoTls(data.Path)))
        {
            pin = Sha256(TestCertificates.Generated(data.Path));
            first = await FingerprintAtHealthzAsync(gateway, pin);
        }

        var file = Path.Combine(data.Path, "tls", SelfSignedCertificate.FileName);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(file)!));
        Assert.Equal(CertificateFingerprint.Sha256(TestCertificates.Generated(data.Path)), first);
        var names = TestCertificates.Generated(data.Path).Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Contains(IPAddress.Loopback, names.EnumerateIPAddresses());
        Assert.Contains("localhost", names.EnumerateDnsNames());

        // The pin taken from the first start still opens a connection to the second.
        await using var restarted = await TestGateway.StartAsync(TestCertificates.AutoTls(data.Path));
        Assert.Equal(first, await FingerprintAtHealthzAsync(restarted, pin));
        await using var pinned = await restarted.ConnectAndHandshakeAsync(Connects.Cli(), pinnedSha256: pin);
    }

    [Fact]
    public async Task Should_serve_the_page_healthz_readyz_and_metrics_over_the_same_tls_port()
    {
        using var data = TestCertificates.TemporaryDirectory();
        await using var gateway = await TestGateway.StartAsync(TestCertificates.AutoTls(data.Path));
        using var http = PinnedHttp(gateway, Sha256(TestCertificates.Generated(data.Path)));

        foreach (var path in new[] { "/", "/healthz", "/readyz", "/metrics" })
        {
            using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode}");
        }
        var health = JsonNode.Parse(await http.GetStringAsync(new Uri("/healthz", UriKind.Relative)))!;
        Assert.Equal("Healthy", (string?)health["checks"]!["tls"]!["status"]);
        Assert.True((bool)health["checks"]!["tls"]!["data"]!["selfSigned"]!);
    }

    [Fact]
    public async Task Should_serve_renewed_certificate_files_from_the_next_handshake_without_a_restart()
    {
        using var files = TestCertificates.TemporaryDirectory();
        var (certificatePath, keyPath) = (files.File("gateway.crt"), files.File("gateway.key"));
        var original = TestCertificates.Write(certificatePath, keyPath, "before renewal");
        await using var gateway = await TestGateway.StartAsync(GivenFiles(certificatePath, keyPath));
        await using var openBefore = await gateway.ConnectAndHandshakeAsync(Connects.Cli(), pinnedSha256: Sha256(original));

        var renewed = TestCertificates.Write(certificatePath, keyPath, "after renewal");

        // The files are looked at every couple of seconds at most; a new handshake soon gets the new certificate.
        var deadline = DateTime.UtcNow + ServerCertificate.CheckInterval + TestClient.DefaultTimeout;
        string served;
        while ((served = await ServedFingerprintAsync(gateway, original, renewed)) != CertificateFingerprint.Sha256(renewed) && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.Equal(CertificateFingerprint.Sha256(renewed), served);
        Assert.Equal(CertificateFingerprint.Sha256(renewed), await FingerprintAtHealthzAsync(gateway, Sha256(renewed)));
        // The connection made before the renewal carries on.
        Assert.True(HasInstance(await openBefore.SystemPresenceAsync(), TestGateway.SelfInstanceId));
    }

    [Fact]
    public async Task Should_refuse_to_start_when_the_certificate_files_are_unusable()
    {
        using var files = TestCertificates.TemporaryDirectory();
        File.WriteAllText(files.File("broken.pem"), "not a certificate");

        var missing = Assert.Throws<GatewaySettingsException>(() => GatewayApp.Build(["--port", "0"], Akka.Configuration.ConfigurationFactory.ParseString(GivenFiles(files.File("absent.pem"), files.File("absent.key")))));
        var broken = Assert.Throws<GatewaySettingsException>(() => GatewayApp.Build(["--port", "0"], Akka.Configuration.ConfigurationFactory.ParseString(GivenFiles(files.File("broken.pem"), files.File("broken.pem")))));
        var keyAlone = Assert.Throws<GatewaySettingsException>(() => GatewayApp.Build(["--port", "0"], Akka.Configuration.ConfigurationFactory.ParseString($"gateway.tls.key = \"{files.File("broken.pem")}\"")));

        Assert.Equal("gateway.tls.cert", missing.Key);
        Assert.Contains("absent.pem", missing.Message, StringComparison.Ordinal);
        Assert.Equal("gateway.tls.cert", broken.Key);
        Assert.Equal("gateway.tls.cert", keyAlone.Key);
    }

    /// <summary>The fingerprint of the certificate a fresh TLS handshake is served, which must be one of <paramref name="expected"/>.</summary>
    private static async Task<string> ServedFingerprintAsync(TestGateway gateway, params X509Certificate2[] expected)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, gateway.Url.Port);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, served, _, _) => expected.Any(certificate => certificate.Equals(served)));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1" });
        return CertificateFingerprint.Sha256(tls.RemoteCertificate!);
    }

    private static async Task<string> FingerprintAtHealthzAsync(TestGateway gateway, byte[] pin)
    {
        using var http = PinnedHttp(gateway, pin);
        var health = JsonNode.Parse(await http.GetStringAsync(new Uri("/healthz", UriKind.Relative)))!;
        return (string)health["checks"]!["tls"]!["data"]!["fingerprint"]!;
    }

    private static HttpClient PinnedHttp(TestGateway gateway, byte[] pin) =>
        new(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = CertificateFingerprint.Pin(pin) } }) { BaseAddress = HttpsBase(gateway) };

    private static Uri HttpsBase(TestGateway gateway) => new($"https://{gateway.Url.Authority}/");

    private static IEnumerable<Exception> Causes(Exception error)
    {
        for (var cause = error; cause is not null; cause = cause.InnerException)
            yield return cause;
    }
}
