using System.Net;
using Presence.Gateway.Tests.Conformance;
using Xunit;
using static Presence.Gateway.Tests.Conformance.Frames;

namespace Presence.Gateway.Tests.Network;

/// <summary>
/// <c>gateway.trusted-proxies</c> over real sockets: the proxy is a client bound to 127.0.0.2, sending the headers a
/// reverse proxy adds; every other peer sends the same headers and is not believed.
/// </summary>
public sealed class TrustedProxySpecs
{
    private static readonly IPAddress ProxyAddress = IPAddress.Parse("127.0.0.2");

    private static Task<TestGateway> StartBehindProxyAsync() => TestGateway.StartAsync("gateway.trusted-proxies = [\"127.0.0.2/32\"]");

    private static Dictionary<string, string> ForwardedFor(string address) => new() { ["X-Forwarded-For"] = address };

    [Fact]
    public async Task Should_record_the_address_a_trusted_proxy_forwards_as_the_rows_ip()
    {
        await using var gateway = await StartBehindProxyAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync(Connects.Cli());

        await using var proxied = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice("behind-proxy"), from: ProxyAddress, headers: ForwardedFor("198.51.100.23"));

        var announced = await watcher.ReceivePresenceAsync(list => HasInstance(list, "behind-proxy"));
        Assert.Equal("198.51.100.23", (string?)SingleRowByInstance(PresenceList(announced), "behind-proxy")["ip"]);
    }

    [Fact]
    public async Task Should_ignore_forwarding_headers_from_a_peer_that_is_not_a_trusted_proxy()
    {
        await using var gateway = await StartBehindProxyAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync(Connects.Cli());

        // 127.0.0.3 is not in the trusted list: it could be any client claiming to be someone else.
        await using var spoofer = await gateway.ConnectAndHandshakeAsync(
            Connects.UiNoDevice("spoofer"), from: IPAddress.Parse("127.0.0.3"),
            headers: new Dictionary<string, string> { ["X-Forwarded-For"] = "198.51.100.24", ["Forwarded"] = "for=198.51.100.25" });

        var announced = await watcher.ReceivePresenceAsync(list => HasInstance(list, "spoofer"));
        // Its real address is loopback, which is never written: no ip at all, and certainly not the claimed one.
        Assert.Null(SingleRowByInstance(PresenceList(announced), "spoofer")["ip"]);
    }

    [Fact]
    public async Task Should_ignore_a_forwarded_loopback_address_like_a_direct_one()
    {
        await using var gateway = await StartBehindProxyAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync(Connects.Cli());

        // A client that reached the proxy through an SSH tunnel on the proxy's host.
        await using var tunnelled = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice("tunnelled-via-proxy"), from: ProxyAddress, headers: new Dictionary<string, string> { ["Forwarded"] = "for=\"[::1]:41000\"" });

        var announced = await watcher.ReceivePresenceAsync(list => HasInstance(list, "tunnelled-via-proxy"));
        Assert.Null(SingleRowByInstance(PresenceList(announced), "tunnelled-via-proxy")["ip"]);
    }
}
