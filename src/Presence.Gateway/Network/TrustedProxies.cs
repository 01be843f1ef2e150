using System.Collections.Immutable;
using System.Net;

namespace Presence.Gateway.Network;

/// <summary>
/// <c>gateway.trusted-proxies</c>: the networks (CIDR, or single addresses) whose forwarding headers the gateway
/// believes. Empty by default, so that no client can set its own address by sending the headers itself.
/// </summary>
public sealed class TrustedProxies
{
    public static readonly TrustedProxies None = new([]);

    private TrustedProxies(ImmutableArray<IPNetwork> networks) => Networks = networks;

    public ImmutableArray<IPNetwork> Networks { get; }

    public bool IsEmpty => Networks.IsEmpty;

    /// <summary>Parses entries such as <c>10.0.0.0/8</c>, <c>fd00::/8</c> or <c>192.0.2.7</c> (a /32 or /128).</summary>
    /// <exception cref="FormatException">An entry is neither a network nor an address; the message names it.</exception>
    public static TrustedProxies Parse(IEnumerable<string> entries)
    {
        var networks = ImmutableArray.CreateBuilder<IPNetwork>();
        foreach (var raw in entries)
        {
            var entry = raw.Trim();
            if (entry.Length == 0)
                continue;
            if (IPNetwork.TryParse(entry, out var network))
                networks.Add(network);
            else if (IPAddress.TryParse(entry, out var address))
                networks.Add(new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            else
                throw new FormatException($"'{entry}' is not a network such as 10.0.0.0/8 or an address such as 192.0.2.7");
        }
        return networks.Count == 0 ? None : new TrustedProxies(networks.ToImmutable());
    }

    /// <summary>An IPv4 peer seen on a dual-stack socket (::ffff:10.0.0.5) matches an IPv4 network as itself.</summary>
    public bool Contains(IPAddress address)
    {
        var normalized = Normalize(address);
        foreach (var network in Networks)
        {
            if (network.Contains(normalized))
                return true;
        }
        return false;
    }

    public override string ToString() => string.Join(", ", Networks);

    internal static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
