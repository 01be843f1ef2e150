using System.Collections.Frozen;

namespace Presence.Actors.Domain;

/// <summary>The dot a reader shows for a row (presence-rules.md, "Consumers and events"), from the age of its <c>ts</c>.</summary>
public enum PresenceStatus
{
    /// <summary>Updated at most <see cref="PresenceStatuses.ActiveUpTo"/> ago, its client still there.</summary>
    Active,

    /// <summary>Its client closed the connection at most <see cref="PresenceStatuses.ActiveUpTo"/> ago (it would be Active otherwise).</summary>
    Left,

    /// <summary>Updated at most <see cref="PresenceStatuses.IdleUpTo"/> ago, whether its client left or not.</summary>
    Idle,

    /// <summary>Updated longer ago than that.</summary>
    Stale,
}

/// <summary>
/// The one place the status thresholds live: the gateway's operator views and the simulation kit both word a row
/// with <see cref="Of(TimeSpan, string?)"/>, so that they never disagree.
/// </summary>
public static class PresenceStatuses
{
    /// <summary>How long after its last update a row shows as Active (or Left).</summary>
    public static readonly TimeSpan ActiveUpTo = TimeSpan.FromSeconds(120);

    /// <summary>How long after its last update a row shows as Idle, and Stale after.</summary>
    public static readonly TimeSpan IdleUpTo = TimeSpan.FromSeconds(300);

    /// <summary>The reasons a connection's row is re-stamped with when its client goes (presence-rules.md, "Disconnect").</summary>
    public static readonly FrozenSet<string> DepartureReasons = new[] { "disconnect", "node-disconnected" }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Whether <paramref name="reason"/> says the row's client has left.</summary>
    public static bool IsDeparture(string? reason) => reason is not null && DepartureReasons.Contains(reason);

    /// <summary>The status of a row <paramref name="age"/> old whose last update had <paramref name="reason"/>.</summary>
    public static PresenceStatus Of(TimeSpan age, string? reason) =>
        age > IdleUpTo ? PresenceStatus.Stale
        : age > ActiveUpTo ? PresenceStatus.Idle
        : IsDeparture(reason) ? PresenceStatus.Left
        : PresenceStatus.Active;

    /// <summary>The status of <paramref name="row"/> at gateway time <paramref name="nowMs"/> (ms since the Unix epoch, as <c>ts</c>).</summary>
    public static PresenceStatus Of(PresenceEntry row, long nowMs) =>
        Of(TimeSpan.FromMilliseconds(Math.Max(0, nowMs - row.Ts)), row.Reason);
}
