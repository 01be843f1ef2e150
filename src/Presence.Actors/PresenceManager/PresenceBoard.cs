using System.Diagnostics.CodeAnalysis;
using Akka.Actor;
using Presence.Actors.Domain;

namespace Presence.Actors.PresenceManager;

/// <summary>
/// The <see cref="PresenceManagerActor"/>'s latest state, published for readers in this process
/// that should not pay a mailbox round trip per read (the gateway's own <c>system-presence</c> and
/// <c>hello-ok</c>). A read is served only when every write told through <see cref="Tell"/> has been
/// applied and no row has passed the TTL; it then differs from what <see cref="PresenceQueries.GetPresence"/>
/// would answer only by messages no client waits on (a pong's renewal, another node's rows on their way).
/// Otherwise <see cref="TryRead"/> says no and the caller asks the manager, which expires the rows first.
/// The manager still owns the map; this only holds what it last published.
/// </summary>
public sealed class PresenceBoard
{
    private volatile Published? _latest;
    private int _unappliedWrites;

    /// <summary>
    /// Tells the manager a write that a later read must see (an upsert or a disconnect): until the
    /// manager has applied it, reads here say no, so a client that had its answer from the writer
    /// never reads an older list afterwards. A write lost with a crashing manager keeps the count up
    /// for good: reads then always ask, which is slower but never wrong.
    /// </summary>
    public void Tell(IActorRef manager, object write)
    {
        Interlocked.Increment(ref _unappliedWrites);
        manager.Tell(new CountedWrite(write));
    }

    /// <summary>The published list when it needs no expiry at <paramref name="nowMs"/> and no write is on its way; otherwise ask.</summary>
    public bool TryRead(long nowMs, [NotNullWhen(true)] out PresenceSnapshot? snapshot)
    {
        snapshot = null;
        // The count is read before the list: the manager publishes before it counts a write applied.
        if (Volatile.Read(ref _unappliedWrites) > 0 || _latest is not { } latest || nowMs > latest.FreshUntil)
            return false;
        snapshot = latest.Snapshot;
        return true;
    }

    internal void Publish(Published latest) => _latest = latest;

    /// <summary>Called by the manager once it has applied (and published) a <see cref="CountedWrite"/>.</summary>
    internal void WriteApplied() => Interlocked.Decrement(ref _unappliedWrites);

    /// <summary>A write told through <see cref="Tell"/>; only these count, so a write told straight to the manager cannot make a counted one look applied.</summary>
    internal sealed record CountedWrite(object Write);

    /// <summary>
    /// One state as published; its snapshot and expiry bound are worked out on first use, by whichever
    /// thread needs them first (a race only computes the same value twice).
    /// </summary>
    internal sealed class Published(PresenceState state)
    {
        private const long NotYetKnown = long.MinValue;
        private long _freshUntil = NotYetKnown;
        private PresenceSnapshot? _snapshot;

        public long FreshUntil
        {
            get
            {
                var freshUntil = Volatile.Read(ref _freshUntil);
                if (freshUntil == NotYetKnown)
                    Volatile.Write(ref _freshUntil, freshUntil = state.FreshUntil());
                return freshUntil;
            }
        }

        public PresenceSnapshot Snapshot =>
            Volatile.Read(ref _snapshot) ?? Interlocked.CompareExchange(ref _snapshot, state.ToSnapshot(), null) ?? _snapshot!;
    }
}
