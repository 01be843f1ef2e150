using Presence.Actors.Domain;

namespace Presence.Actors.TestKit;

/// <summary>The dot an Instances view shows for a row, from the age of its <c>ts</c> on the gateway's clock.</summary>
public enum PresenceStatus
{
    /// <summary>Updated at most 120 s ago.</summary>
    Active,

    /// <summary>Updated at most 300 s ago.</summary>
    Idle,

    /// <summary>Updated longer ago than that.</summary>
    Stale,

    /// <summary>Its client has closed the connection (reason <c>disconnect</c> or <c>node-disconnected</c>).</summary>
    Left,
}

/// <summary>How a reader turns a row into a <see cref="PresenceStatus"/>.</summary>
public static class PresenceStatuses
{
    /// <summary>How long after its last update a row shows as Active.</summary>
    public static readonly TimeSpan ActiveFor = TimeSpan.FromSeconds(120);

    /// <summary>How long after its last update a row shows as Idle (and Stale after).</summary>
    public static readonly TimeSpan IdleFor = TimeSpan.FromSeconds(300);

    /// <summary>The status <paramref name="row"/> shows at gateway time <paramref name="nowMs"/> (ms since the Unix epoch).</summary>
    public static PresenceStatus Of(PresenceEntry row, long nowMs)
    {
        if (row.Reason is "disconnect" or "node-disconnected")
            return PresenceStatus.Left;
        var age = nowMs - row.Ts;
        return age <= ActiveFor.TotalMilliseconds ? PresenceStatus.Active
            : age <= IdleFor.TotalMilliseconds ? PresenceStatus.Idle
            : PresenceStatus.Stale;
    }
}
