using System.Collections.Immutable;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Event;
using Presence.Actors.Cluster;
using Presence.Actors.Domain;
using Presence.Actors.Hosting;
using Presence.Actors.Streams;
using static Presence.Actors.PresenceManager.PresenceCommands;
using static Presence.Actors.PresenceManager.PresenceEvents;
using static Presence.Actors.PresenceManager.PresenceQueries;

namespace Presence.Actors.PresenceManager;

/// <summary>
/// Owns the presence map: applies upserts, answers queries, sweeps expired rows
/// on its own timer, and tells subscribers of changes, coalesced under bursts.
/// In a cluster it also holds the rows other nodes own (told by the <see cref="PresenceReplicatorActor"/>,
/// which it tells of its own rows in turn), and its list is the merged view.
/// Every reader gets the same immutable snapshot of a state, its list and its JSON each built once.
/// </summary>
public sealed class PresenceManagerActor : UntypedActor, IWithTimers
{
    private const string SweepTimer = "sweep";

    private readonly PresenceSettings _settings;
    private readonly HashSet<IActorRef> _subscribers = [];
    private PresenceState _state;
    private StateSnapshot _current;
    private ChannelWriter<StateSnapshot> _changes = null!;
    private IActorRef? _replicator;
    /// <summary>This node's name in operator views: its cluster address once the replicator says it, else its host.</summary>
    private string _localNode;
    private ImmutableArray<PresenceNode> _members = [];

    public PresenceManagerActor(PresenceSettings settings, PresenceEntry self)
    {
        _settings = settings;
        _state = PresenceState.Create(self with { Ts = Now }, settings.Limits);
        _current = new StateSnapshot(_state);
        _localNode = self.Host ?? "local";
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(PresenceSettings settings, PresenceEntry self) =>
        Akka.Actor.Props.Create(() => new PresenceManagerActor(settings, self));

    private static long Now => Context.System.Scheduler.Now.ToUnixTimeMilliseconds();

    /// <summary>The current state's snapshot, made on the first read of that state and shared by every reader until the next change.</summary>
    private PresenceSnapshot Snapshot => _current.Snapshot;

    protected override void PreStart()
    {
        PresenceInstruments.RowsChanged(_state.Count);
        Timers.StartPeriodicTimer(SweepTimer, SweepTick.Instance, _settings.SweepInterval);
        // The stream gets the same state snapshot that reads are answered with, so a version's list is built
        // once, by whichever comes first: a reader or the stream (and its JSON once, by the first to send it).
        // It runs as a child of this instance: a restart starts a new one from the new state (see Coalesce.RunToSelf).
        _changes = Coalesce.RunToSelf<StateSnapshot, Announce>(
            Context, _settings.BroadcastInterval, changed => new Announce(changed.Snapshot));
    }

    protected override void PostStop() => PresenceInstruments.RowsChanged(-_state.Count);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Upsert upsert:
                Apply(_state.Upsert(upsert.Key, upsert.Update, Now, upsert.Owner));
                break;
            case MarkDisconnected disconnected:
                Apply(_state.MarkDisconnected(disconnected.Key, disconnected.Owner, disconnected.Reason, Now));
                break;
            case Touch touch:
                Apply(_state.Touch(touch.Key, touch.Owner, Now));
                break;
            case GetPresence:
                // Rows may have expired since the last sweep; a read never shows them.
                ApplyExpiry(_state.Expire(Now));
                Sender.Tell(new GetPresenceResponse(Snapshot));
                break;
            case GetPresenceOrigins:
                ApplyExpiry(_state.Expire(Now));
                Sender.Tell(new GetPresenceOriginsResponse(
                    _state.Origins(_localNode, PresenceReplicatorActor.NodeAddress),
                    _members.IsEmpty ? [new PresenceNode(_localNode, "up", Reachable: true)] : _members));
                break;
            case Subscribe subscribe:
                if (_subscribers.Add(subscribe.Subscriber))
                    Context.Watch(subscribe.Subscriber);
                break;
            case Unsubscribe unsubscribe:
                if (_subscribers.Remove(unsubscribe.Subscriber))
                    Context.Unwatch(unsubscribe.Subscriber);
                break;
            case Terminated terminated when terminated.ActorRef.Equals(_replicator):
                _replicator = null;
                _members = [];
                break;
            case Terminated terminated:
                _subscribers.Remove(terminated.ActorRef);
                break;
            case ReplicationProtocol.WatchLocalRows watch:
                _replicator = watch.Replicator;
                _localNode = watch.Node;
                Context.Watch(_replicator);
                TellLocalRows();
                break;
            case ReplicationProtocol.RemoteRowsChanged remote:
                Apply(_state.WithNode(remote.Node, remote.Rows));
                break;
            case ReplicationProtocol.RemoteNodeLeft left:
                Apply(_state.NodeLeft(left.Node, Now));
                break;
            case ReplicationProtocol.MembersChanged members:
                _members = members.Members;
                break;
            case SweepTick:
                ApplyExpiry(_state.Sweep(Now));
                break;
            case Announce announce:
                var changed = new PresenceChanged(announce.Snapshot);
                foreach (var subscriber in _subscribers)
                    subscriber.Tell(changed);
                break;
            case Coalesce.Stopped { WithPreviousInstance: true }:
                break;
            case Coalesce.Stopped stopped:
                throw new InvalidOperationException("The stream of presence announcements stopped.", stopped.Cause);
            default:
                Unhandled(message);
                break;
        }
    }

    private void ApplyExpiry(PresenceState swept)
    {
        // Expiry only takes rows out, and the count is of this node's rows: other nodes count their own.
        if (_state.Count - swept.Count is > 0 and var expired)
            PresenceInstruments.Expired(expired);
        Apply(swept);
    }

    private void Apply(PresenceState next)
    {
        if (ReferenceEquals(next, _state))
            return;
        var visible = next.Version != _state.Version;
        PresenceInstruments.RowsChanged(next.Count - _state.Count);
        if (visible)
            PresenceInstruments.Changed(next.Version - _state.Version);
        if (next.Evicted != _state.Evicted)
            PresenceInstruments.Evicted(next.Evicted - _state.Evicted);
        var localChanged = !ReferenceEquals(next.LocalRows, _state.LocalRows) || !ReferenceEquals(next.SelfRow, _state.SelfRow);
        _state = next;
        if (localChanged)
            TellLocalRows();
        _current = new StateSnapshot(next);
        if (visible)
            OnVisibleChange();
    }

    /// <summary>
    /// An isolated change goes out at once; later ones in the same <c>presence.broadcast-interval</c> wait for one
    /// announcement with the latest list (see <see cref="Coalesce"/>). Written even with no subscriber, so that one
    /// who subscribes while a burst is held back still gets the latest list, not the one from before it.
    /// </summary>
    private void OnVisibleChange() => _changes.TryWrite(_current);

    private void TellLocalRows() => _replicator?.Tell(new ReplicationProtocol.LocalRowsChanged(_state.SelfRow, _state.LocalRows));

    private sealed class SweepTick : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly SweepTick Instance = new();

        private SweepTick()
        {
        }
    }

    /// <summary>The latest list, told by the announcement stream to the manager, which tells its subscribers.</summary>
    private sealed record Announce(PresenceSnapshot Snapshot);
}
