using System.Security.Cryptography;
using Presence.Gateway;
using Presence.Gateway.Operators;
using Presence.Gateway.Tests.Conformance;
using Presence.Gateway.Tls;
using Xunit;

namespace Presence.Gateway.Tests.Tls;

/// <summary><c>instances --url wss://… --tls-fingerprint …</c> against a <c>--tls-auto</c> gateway, pinned the way OpenClaw's client pins.</summary>
public sealed class InstancesOverTlsSpecs
{
    private static async Task<(int Code, string Output, string Error)> RunAsync(TestGateway gateway, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
        var code = await GatewayCommandLine.InvokeAsync(["instances", "--url", gateway.Url.ToString(), "--token", TestGateway.Token, .. args], new CommandLineConsole(output, error, Interactive: false), timeout.Token);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Should_list_a_self_signed_gateway_pinned_by_the_fingerprint_it_printed()
    {
        using var data = TestCertificates.TemporaryDirectory();
        await using var gateway = await TestGateway.StartAsync(TestCertificates.AutoTls(data.Path));
        var printed = CertificateFingerprint.Sha256(TestCertificates.Generated(data.Path));

        var (code, output, error) = await RunAsync(gateway, "--tls-fingerprint", printed);
        // The same pin in the other form OpenClaw accepts: lower-case hex without colons, with a sha256: prefix.
        var (again, _, _) = await RunAsync(gateway, "--tls-fingerprint", "sha256:" + printed.Replace(":", "", StringComparison.Ordinal).ToLowerInvariant());

        Assert.True(code == 0, error);
        Assert.Contains(TestGateway.SelfHost, output, StringComparison.Ordinal);
        Assert.Equal(0, again);
    }

    [Fact]
    public async Task Should_refuse_a_gateway_whose_certificate_is_not_the_pinned_one_or_not_trusted_at_all()
    {
        using var data = TestCertificates.TemporaryDirectory();
        await using var gateway = await TestGateway.StartAsync(TestCertificates.AutoTls(data.Path));
        var other = Convert.ToHexString(SHA256.HashData("another certificate"u8));

        var (mispinned, mispinnedOutput, mispinnedError) = await RunAsync(gateway, "--tls-fingerprint", other);
        var (unpinned, _, unpinnedError) = await RunAsync(gateway);

        Assert.Equal(1, mispinned);
        Assert.Empty(mispinnedOutput);
        Assert.Contains("TLS certificate was not accepted", mispinnedError, StringComparison.Ordinal);
        // Without a pin the self-signed certificate is checked against the system's CAs, and fails.
        Assert.Equal(1, unpinned);
        Assert.Contains("--tls-fingerprint", unpinnedError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("wss://127.0.0.1:1", "AB:CD", "must be a SHA-256 fingerprint")]
    [InlineData("ws://127.0.0.1:1", "sha256:0000000000000000000000000000000000000000000000000000000000000000", "needs a wss:// URL")]
    public async Task Should_reject_a_fingerprint_it_cannot_use_and_exit_with_2(string url, string fingerprint, string problem)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await GatewayCommandLine.InvokeAsync(["instances", "--url", url, "--tls-fingerprint", fingerprint], new CommandLineConsole(output, error, Interactive: false), CancellationToken.None);

        Assert.Equal(2, code);
        Assert.Contains(problem, error.ToString(), StringComparison.Ordinal);
    }
}
