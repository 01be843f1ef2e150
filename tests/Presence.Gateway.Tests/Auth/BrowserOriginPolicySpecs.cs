using System.Net;
using System.Text;
using Presence.Gateway.Auth;
using Xunit;

namespace Presence.Gateway.Tests.Auth;

/// <summary>The browser-origin rule as OpenClaw's <c>checkBrowserOrigin</c> decides it, plus what counts as a local client.</summary>
public sealed class BrowserOriginPolicySpecs
{
    private const string OwnOrigin = "http://127.0.0.1:18789";
    private const string ControlUi = "openclaw-control-ui";

    private static string? Refusal(string? origin, bool local = true, string clientId = ControlUi, params string[] allowed) =>
        BrowserOriginPolicy.Refusal(new BrowserOrigin(origin, OwnOrigin, local), clientId, allowed);

    [Theory]
    [InlineData("openclaw-control-ui")]
    [InlineData("openclaw-browser-copilot")]
    [InlineData("webchat-ui")]
    [InlineData("webchat")]
    public void Should_refuse_a_browser_client_that_sends_no_origin(string clientId)
    {
        Assert.Equal(BrowserOriginPolicy.MissingOrInvalid, Refusal(null, clientId: clientId));
    }

    [Fact]
    public void Should_let_a_non_browser_client_connect_without_an_origin()
    {
        Assert.Null(Refusal(null, local: false, clientId: "gateway-client"));
    }

    [Theory]
    [InlineData("null")]
    [InlineData("")]
    [InlineData("127.0.0.1:5173")]
    [InlineData("http://127.0.0.1:5173/index.html")]
    [InlineData("http://127.0.0.1:5173?x=1")]
    [InlineData("http://user:pw@127.0.0.1:5173")]
    [InlineData("http://127.0.0.1\\@evil.example")]
    public void Should_call_an_origin_that_is_not_scheme_host_port_missing_or_invalid(string origin)
    {
        Assert.Equal(BrowserOriginPolicy.MissingOrInvalid, Refusal(origin));
    }

    [Theory]
    [InlineData("http://127.0.0.1:18789")]
    [InlineData("HTTP://127.0.0.1:18789/")]
    public void Should_allow_the_gateway_own_origin_from_anywhere(string origin)
    {
        Assert.Null(Refusal(origin, local: false));
    }

    [Theory]
    [InlineData("http://127.0.0.1:5173")]
    [InlineData("http://localhost:5173")]
    [InlineData("http://LOCALHOST:5173/")]
    [InlineData("http://localhost.:5173")]
    [InlineData("http://[::1]:5173")]
    [InlineData("http://127.0.0.2:8080")]
    [InlineData("https://localhost")]
    public void Should_allow_a_loopback_page_from_a_local_client(string origin)
    {
        Assert.Null(Refusal(origin));
    }

    [Theory]
    [InlineData("http://127.0.0.1:5173")]
    [InlineData("http://localhost:5173")]
    public void Should_refuse_a_loopback_page_when_the_request_is_not_local(string origin)
    {
        Assert.Equal(BrowserOriginPolicy.NotAllowed, Refusal(origin, local: false));
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("http://localhost.evil.example:5173")]
    [InlineData("http://127.0.0.1.nip.io:5173")]
    [InlineData("http://10.0.0.5:5173")]
    public void Should_refuse_any_other_page_even_from_a_local_client(string origin)
    {
        Assert.Equal(BrowserOriginPolicy.NotAllowed, Refusal(origin));
    }

    [Fact]
    public void Should_check_an_origin_a_non_browser_client_sends_as_well()
    {
        Assert.Equal(BrowserOriginPolicy.NotAllowed, Refusal("https://evil.example", clientId: "gateway-client"));
    }

    [Theory]
    [InlineData("https://ops.example", "https://ops.example")]
    [InlineData("https://OPS.example/", "https://ops.example")]
    [InlineData("https://ops.example", "https://ops.example:443")]
    [InlineData("http://10.0.0.5:5173", "http://10.0.0.5:5173")]
    [InlineData("https://anything.example", "*")]
    public void Should_allow_a_configured_origin_from_anywhere(string origin, string allowed)
    {
        Assert.Null(Refusal(origin, local: false, allowed: allowed));
    }

    [Fact]
    public void Should_match_configured_origins_exactly()
    {
        Assert.Equal(BrowserOriginPolicy.NotAllowed, Refusal("https://ops.example:8443", local: false, allowed: "https://ops.example"));
        Assert.Equal(BrowserOriginPolicy.NotAllowed, Refusal("http://ops.example", local: false, allowed: "https://ops.example"));
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("127.0.0.2", true)]
    [InlineData("10.0.0.5", false)]
    [InlineData("192.0.2.1", false)]
    public void Should_count_a_request_as_local_only_from_a_loopback_peer(string peer, bool local)
    {
        Assert.Equal(local, BrowserOrigin.IsLocalClient(IPAddress.Parse(peer), hasProxyHeader: false));
        Assert.False(BrowserOrigin.IsLocalClient(null, hasProxyHeader: false));
        Assert.False(BrowserOrigin.IsLocalClient(IPAddress.Loopback, hasProxyHeader: true));
    }

    [Theory]
    [InlineData("X-Forwarded-For", true)]
    [InlineData("x-forwarded-host", true)]
    [InlineData("Forwarded", true)]
    [InlineData("X-Real-IP", true)]
    [InlineData("Origin", false)]
    [InlineData("X-Forwarded", false)]
    public void Should_know_the_headers_by_which_a_proxy_names_its_client(string header, bool proxy)
    {
        Assert.Equal(proxy, BrowserOrigin.IsProxyHeader(Encoding.ASCII.GetBytes(header)));
    }
}
