using Presence.Actors.Domain;

namespace Presence.Actors.PresenceManager;

/// <summary>
/// One state the manager reached, and its snapshot made once, by whichever needs it first: an Ask, on the
/// manager's thread, or the announcement stream, on its own. A race between the two only builds the same
/// snapshot twice; both then hand out the one that won.
/// </summary>
internal sealed class StateSnapshot(PresenceState state)
{
    private PresenceSnapshot? _snapshot;

    public PresenceSnapshot Snapshot =>
        Volatile.Read(ref _snapshot) ?? Interlocked.CompareExchange(ref _snapshot, state.ToSnapshot(), null) ?? _snapshot!;
}
