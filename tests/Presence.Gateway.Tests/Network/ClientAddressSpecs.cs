using System.Net;
using Presence.Actors.Domain;
using Presence.Gateway.Network;
using Xunit;

namespace Presence.Gateway.Tests.Network;

/// <summary>Which address a request is from, with and without trusted proxies in front (presence-rules.md, "Loopback caveat").</summary>
public sealed class ClientAddressSpecs
{
    private static readonly IPAddress Proxy = IPAddress.Parse("10.0.0.5");
    private static readonly TrustedProxies ProxyNetwork = TrustedProxies.Parse(["10.0.0.0/24"]);

    /// <summary>Repeated header lines joined by commas, as the upgrade's parser hands them over.</summary>
    private static ClientAddress Resolve(IPAddress? peer, TrustedProxies trusted, params (string Name, string Value)[] headers)
    {
        string? Joined(string name) => headers.Any(header => header.Name == name) ? string.Join(", ", headers.Where(header => header.Name == name).Select(header => header.Value)) : null;
        return ClientAddress.Resolve(peer, "http", new ForwardingHeaders(Joined("Forwarded"), Joined("X-Forwarded-For"), Joined("X-Forwarded-Proto")), trusted);
    }

    [Fact]
    public void Should_ignore_forwarding_headers_from_a_peer_that_is_not_trusted()
    {
        var peer = IPAddress.Parse("198.51.100.9");

        var client = Resolve(peer, ProxyNetwork, ("X-Forwarded-For", "203.0.113.7"), ("Forwarded", "for=203.0.113.8"), ("X-Forwarded-Proto", "https"));

        Assert.Equal(new ClientAddress(peer, "http"), client);
    }

    [Fact]
    public void Should_ignore_forwarding_headers_when_no_proxy_is_trusted_even_from_loopback()
    {
        var client = Resolve(IPAddress.Loopback, TrustedProxies.None, ("X-Forwarded-For", "203.0.113.7"));

        Assert.Equal(IPAddress.Loopback, client.Address);
        Assert.Null(Loopback.PresenceIp(client.Address));
    }

    [Fact]
    public void Should_take_the_client_from_x_forwarded_for_sent_by_a_trusted_proxy()
    {
        var client = Resolve(Proxy, ProxyNetwork, ("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Proto", "https"));

        Assert.Equal(new ClientAddress(IPAddress.Parse("203.0.113.7"), "https"), client);
    }

    [Fact]
    public void Should_take_the_nearest_untrusted_hop_so_that_a_client_cannot_prepend_its_own_address()
    {
        // The client sent "X-Forwarded-For: 192.0.2.1"; the proxy appended the address it really saw.
        var client = Resolve(Proxy, ProxyNetwork, ("X-Forwarded-For", "192.0.2.1, 203.0.113.7"));

        Assert.Equal(IPAddress.Parse("203.0.113.7"), client.Address);
    }

    [Fact]
    public void Should_walk_past_further_trusted_proxies_and_read_headers_given_on_several_lines()
    {
        var client = Resolve(Proxy, ProxyNetwork, ("X-Forwarded-For", "192.0.2.1, 203.0.113.7"), ("X-Forwarded-For", "10.0.0.6"));

        Assert.Equal(IPAddress.Parse("203.0.113.7"), client.Address);
    }

    [Fact]
    public void Should_prefer_the_rfc_7239_forwarded_header_with_quoted_ipv6_and_ports()
    {
        var client = Resolve(Proxy, ProxyNetwork,
            ("Forwarded", "for=192.0.2.60;proto=http, for=\"[2001:db8:cafe::17]:4711\";proto=https;by=10.0.0.5"),
            ("X-Forwarded-For", "198.51.100.1"));

        Assert.Equal(new ClientAddress(IPAddress.Parse("2001:db8:cafe::17"), "https"), client);
    }

    [Theory]
    [InlineData("X-Forwarded-For", "127.0.0.1")]
    [InlineData("X-Forwarded-For", "::1")]
    [InlineData("X-Forwarded-For", "::ffff:127.0.0.2")]
    [InlineData("Forwarded", "for=\"[::1]:5000\"")]
    public void Should_resolve_a_forwarded_loopback_address_which_presence_then_ignores_like_a_direct_one(string header, string value)
    {
        var client = Resolve(Proxy, ProxyNetwork, (header, value));

        Assert.NotNull(client.Address);
        Assert.True(Loopback.IsLoopback(client.Address));
        Assert.Null(Loopback.PresenceIp(client.Address));
    }

    [Theory]
    [InlineData("Forwarded", "for=unknown")]
    [InlineData("Forwarded", "for=_hidden;proto=https")]
    [InlineData("Forwarded", "proto=https")]
    [InlineData("X-Forwarded-For", "not an address")]
    [InlineData("X-Forwarded-For", "")]
    public void Should_keep_the_proxy_as_the_client_when_the_chain_names_no_address(string header, string value)
    {
        var client = Resolve(Proxy, ProxyNetwork, (header, value));

        Assert.Equal(new ClientAddress(Proxy, "http"), client);
    }

    [Fact]
    public void Should_take_the_farthest_hop_when_every_hop_is_a_trusted_proxy()
    {
        var client = Resolve(Proxy, ProxyNetwork, ("X-Forwarded-For", "10.0.0.7, 10.0.0.6"));

        Assert.Equal(IPAddress.Parse("10.0.0.7"), client.Address);
    }

    [Fact]
    public void Should_trust_an_ipv4_proxy_seen_on_a_dual_stack_socket()
    {
        var client = Resolve(Proxy.MapToIPv6(), ProxyNetwork, ("X-Forwarded-For", "203.0.113.7"));

        Assert.Equal(IPAddress.Parse("203.0.113.7"), client.Address);
    }

    [Fact]
    public void Should_parse_networks_and_single_addresses_and_name_a_bad_entry()
    {
        var trusted = TrustedProxies.Parse(["10.0.0.0/8", " 192.0.2.7 ", "fd00::/8", ""]);

        Assert.True(trusted.Contains(IPAddress.Parse("10.200.1.1")));
        Assert.True(trusted.Contains(IPAddress.Parse("192.0.2.7")));
        Assert.False(trusted.Contains(IPAddress.Parse("192.0.2.8")));
        Assert.True(trusted.Contains(IPAddress.Parse("fd12::1")));
        Assert.True(TrustedProxies.Parse([]).IsEmpty);
        var error = Assert.Throws<FormatException>(() => TrustedProxies.Parse(["10.0.0.0/33"]));
        Assert.Contains("10.0.0.0/33", error.Message, StringComparison.Ordinal);
    }
}
