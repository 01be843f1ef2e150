using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PuppeteerSharp;
using Presence.Gateway.Tests.Conformance;
using Presence.Gateway.Tests.Operators;
using Presence.Gateway.Tls;
using Xunit;

namespace Presence.Gateway.Tests.Tls;

/// <summary>
/// The Instances page over https:// in real Chromium, its WebSocket over wss:// on the same port, with the gateway's
/// self-signed certificate trusted for the test only: Chromium's SPKI allow-list names exactly that one key.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class InstancesPageOverTlsSpecs(Operators.Browser sharedBrowser)
{
    /// <summary>base64(SHA-256(SubjectPublicKeyInfo)), the form <c>--ignore-certificate-errors-spki-list</c> takes.</summary>
    private static string SpkiSha256(X509Certificate2 certificate) => Convert.ToBase64String(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));

    [Fact]
    public async Task Should_show_the_instances_over_https_and_wss_when_the_browser_trusts_the_generated_certificate()
    {
        using var data = TestCertificates.TemporaryDirectory();
        await using var gateway = await TestGateway.StartAsync(TestCertificates.AutoTls(data.Path));
        using var certificate = TestCertificates.Generated(data.Path);
        await using var mac = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice(), pinnedSha256: certificate.GetCertHash(HashAlgorithmName.SHA256));
        var browser = new Operators.Browser($"--ignore-certificate-errors-spki-list={SpkiSha256(certificate)}");
        await browser.InitializeAsync();
        try
        {
            await using var session = await browser.NewPageAsync();
            var page = new InstancesPageDriver(session.Page);

            await page.OpenAsync(gateway);
            await page.WaitForConnectedAsync();
            await page.WaitForRowAsync("probe-ui-instance-1");
            await page.WaitForRowAsync(await page.OwnKeyAsync());

            Assert.Equal("https:", await session.Page.EvaluateExpressionAsync<string>("location.protocol"));
            Assert.Equal(TestGateway.SelfInstanceId, (await page.KeysAsync())[0]);
        }
        finally
        {
            await browser.DisposeAsync();
        }
    }

    [Fact]
    public async Task Should_not_be_trusted_by_a_browser_that_was_not_told_about_the_certificate()
    {
        using var data = TestCertificates.TemporaryDirectory();
        await using var gateway = await TestGateway.StartAsync(TestCertificates.AutoTls(data.Path));
        await using var session = await sharedBrowser.NewPageAsync();

        var refused = await Assert.ThrowsAsync<NavigationException>(() => session.Page.GoToAsync($"{gateway.OwnOrigin}/", WaitUntilNavigation.DOMContentLoaded));

        Assert.Contains("ERR_CERT_AUTHORITY_INVALID", refused.Message, StringComparison.Ordinal);
    }
}
