using Akka.Actor;
using Akka.Event;
using Presence.Actors.Cluster;
using Presence.Actors.Domain;
using Presence.Actors.Hosting;
using static Presence.Actors.PresenceManager.PresenceCommands;
using static Presence.Actors.PresenceManager.PresenceEvents;
using static Presence.Actors.PresenceManager.PresenceQueries;

namespace Presence.Actors.PresenceManager;

/// <summary>
/// Owns the presence map: applies upserts, answers queries, sweeps expired rows
/// on its own timer, and tells subscribers of changes, coalesced under bursts.
/// In a cluster it also holds the rows other nodes own (told by the <see cref="PresenceReplicatorActor"/>,
/// which it tells of its own rows in turn), and its list is the merged view.
/// Every reader gets the same immutable snapshot of a state, its JSON built once.
/// </summary>
public sealed class PresenceManagerActor : UntypedActor, IWithTimers
{
    private const string SweepTimer = "sweep";
    private const string FlushTimer = "flush";

    private readonly PresenceSettings _settings;
    private readonly HashSet<IActorRef> _subscribers = [];
    private PresenceState _state;
    private PresenceSnapshot? _snapshot;
    private long _announcedVersion;
    private long? _lastAnnouncedAt;
    private bool _flushScheduled;
    private IActorRef? _replicator;

    public PresenceManagerActor(PresenceSettings settings, PresenceEntry self)
    {
        _settings = settings;
        _state = PresenceState.Create(self with { Ts = Now }, settings.Limits);
        _announcedVersion = _state.Version;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(PresenceSettings settings, PresenceEntry self) =>
        Akka.Actor.Props.Create(() => new PresenceManagerActor(settings, self));

    private static long Now => Context.System.Scheduler.Now.ToUnixTimeMilliseconds();

    /// <summary>The current state's snapshot, made on the first read of that state and shared by every reader until the next change.</summary>
    private PresenceSnapshot Snapshot => _snapshot ??= _state.ToSnapshot();

    protected override void PreStart()
    {
        PresenceInstruments.RowsChanged(_state.Count);
        Timers.StartPeriodicTimer(SweepTimer, SweepTick.Instance, _settings.SweepInterval);
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
                break;
            case Terminated terminated:
                _subscribers.Remove(terminated.ActorRef);
                break;
            case ReplicationProtocol.WatchLocalRows watch:
                _replicator = watch.Replicator;
                Context.Watch(_replicator);
                TellLocalRows();
                break;
            case ReplicationProtocol.RemoteRowsChanged remote:
                Apply(_state.WithNode(remote.Node, remote.Rows));
                break;
            case ReplicationProtocol.RemoteNodeLeft left:
                Apply(_state.NodeLeft(left.Node, Now));
                break;
            case SweepTick:
                ApplyExpiry(_state.Sweep(Now));
                break;
            case FlushTick:
                _flushScheduled = false;
                if (_state.Version != _announcedVersion)
                    Announce();
                break;
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
        _snapshot = null;
        if (visible)
            OnVisibleChange();
    }

    /// <summary>An isolated change goes out at once; later ones in the same interval wait for one flush with the latest list.</summary>
    private void OnVisibleChange()
    {
        if (_flushScheduled || _subscribers.Count == 0)
            return;
        var sinceLast = TimeSpan.FromMilliseconds(Now - _lastAnnouncedAt.GetValueOrDefault());
        if (_lastAnnouncedAt is null || sinceLast >= _settings.BroadcastInterval)
        {
            Announce();
            return;
        }
        Timers.StartSingleTimer(FlushTimer, FlushTick.Instance, _settings.BroadcastInterval - sinceLast);
        _flushScheduled = true;
    }

    private void TellLocalRows() => _replicator?.Tell(new ReplicationProtocol.LocalRowsChanged(_state.SelfRow, _state.LocalRows));

    private void Announce()
    {
        var changed = new PresenceChanged(Snapshot);
        foreach (var subscriber in _subscribers)
            subscriber.Tell(changed);
        _announcedVersion = _state.Version;
        _lastAnnouncedAt = Now;
    }

    private sealed class SweepTick : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly SweepTick Instance = new();

        private SweepTick()
        {
        }
    }

    private sealed class FlushTick : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly FlushTick Instance = new();

        private FlushTick()
        {
        }
    }
}
