using System.Net;

namespace Presence.Actors.Domain;

/// <summary>
/// The loopback rule: a client reached through an SSH tunnel or a local port
/// forward appears to come from loopback, so such a remote address is never
/// written as a row's ip and never overwrites a good client-reported one.
/// </summary>
public static class Loopback
{
    public static bool IsLoopback(IPAddress address) =>
        IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

    /// <summary>The ip to record for a connection's remote address, or null when there is none worth recording.</summary>
    public static string? PresenceIp(IPAddress? remote) =>
        remote is null || IsLoopback(remote) ? null : (remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote).ToString();
}
