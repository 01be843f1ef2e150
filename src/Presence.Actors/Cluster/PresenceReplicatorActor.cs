using System.Collections.Immutable;
using System.Text.Json;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using Presence.Actors.Domain;
using Presence.Actors.Streams;
using static Presence.Actors.Cluster.ReplicationProtocol;

namespace Presence.Actors.Cluster;

/// <summary>
/// One per node: writes the rows this node owns to its own DData key (<c>presence/&lt;node&gt;</c>,
/// an <c>LWWDictionary</c> written with <c>presence.cluster.write-consistency</c>), subscribes to the keys of every other
/// member and tells the PresenceManager what each one owns. Unreachable nodes' rows leave the
/// view until they are reachable again; a node that leaves gracefully leaves its rows as
/// disconnected; the oldest surviving node clears the key of a removed one.
/// </summary>
public sealed class PresenceReplicatorActor : UntypedActor
{
    private readonly IActorRef _manager;
    private readonly PresenceClusterSettings _settings;
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly IActorRef _replicator = DistributedData.Get(Context.System).Replicator;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly LWWDictionaryKey<string, string> _ownKey;
    private readonly Dictionary<string, RemoteNode> _nodes = [];
    // Every member (this node too) and those this node cannot reach: what operator views list as the cluster.
    private readonly Dictionary<UniqueAddress, Member> _members = [];
    private readonly HashSet<UniqueAddress> _unreachable = [];
    private ChannelWriter<LocalRowsChanged> _localRows = null!;

    public PresenceReplicatorActor(IActorRef manager, PresenceClusterSettings settings)
    {
        _manager = manager;
        _settings = settings;
        _ownKey = KeyOf(_cluster.SelfUniqueAddress);
    }

    public static Props Props(IActorRef manager, PresenceClusterSettings settings) =>
        Akka.Actor.Props.Create(() => new PresenceReplicatorActor(manager, settings));

    /// <summary>The node's id in the view, and the suffix of its DData key: host:port#uid, unique per incarnation.</summary>
    public static string NodeId(UniqueAddress node) => $"{AddressOf(node.Address)}#{node.Uid}";

    /// <summary>The address part of a <see cref="NodeId"/> (host:port), as operator views name a node: incarnations of one node share it.</summary>
    public static string NodeAddress(string nodeId) => nodeId.LastIndexOf('#') is >= 0 and var uid ? nodeId[..uid] : nodeId;

    private static string AddressOf(Address address) => $"{address.Host}:{address.Port}";

    public static LWWDictionaryKey<string, string> KeyOf(UniqueAddress node) => new($"presence/{NodeId(node)}");

    protected override void PreStart()
    {
        // Encoding and writing run on the stream, a child of this instance: a restart starts a new one, whose first
        // write is the whole key again (see Coalesce.RunToSelf).
        var writer = new OwnKeyWriter(_settings, _cluster.SelfUniqueAddress, _ownKey, _log);
        _localRows = Coalesce.RunToSelf<LocalRowsChanged, WriteOwnKey>(Context, _settings.PublishInterval, writer.Next);
        _manager.Tell(new WatchLocalRows(Self, AddressOf(_cluster.SelfAddress)));
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case LocalRowsChanged rows:
                _localRows.TryWrite(rows);
                break;
            case WriteOwnKey write:
                _replicator.Tell(write.Update);
                break;
            case Coalesce.Stopped { WithPreviousInstance: true }:
                break;
            case Coalesce.Stopped stopped:
                throw new InvalidOperationException("The stream writing this node's presence rows stopped.", stopped.Cause);
            case ClusterEvent.MemberRemoved removed:
                OnRemoved(removed.Member, graceful: removed.PreviousStatus == MemberStatus.Exiting);
                TellMembers(removed.Member, reachable: false, removed: true);
                break;
            case ClusterEvent.IMemberEvent member when member.Member.Status is MemberStatus.Up or MemberStatus.Leaving or MemberStatus.Exiting or MemberStatus.WeaklyUp:
                Track(member.Member);
                TellMembers(member.Member, !_unreachable.Contains(member.Member.UniqueAddress));
                break;
            case ClusterEvent.IMemberEvent member:
                TellMembers(member.Member, !_unreachable.Contains(member.Member.UniqueAddress));
                break;
            case ClusterEvent.UnreachableMember unreachable:
                OnReachability(unreachable.Member, reachable: false);
                TellMembers(unreachable.Member, reachable: false);
                break;
            case ClusterEvent.ReachableMember reachable:
                OnReachability(reachable.Member, reachable: true);
                TellMembers(reachable.Member, reachable: true);
                break;
            case Changed changed:
                OnData(changed.Key.Id, changed.Data);
                break;
            case GetSuccess got:
                OnData(got.Key.Id, got.Data);
                break;
            case NotFound or GetFailure or UpdateSuccess:
                break;
            case UpdateTimeout timeout:
                // Not every node acknowledged a direct write (one is unreachable or slow): the write stands locally
                // and gossip delivers it, so this is no fault.
                _log.Debug("Presence key {0} was not acknowledged by every node it was sent to in time", timeout.Key.Id);
                break;
            case IUpdateFailure failure:
                _log.Warning("Writing presence key {0} failed: {1}", failure.Key.Id, failure);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Track(Member member)
    {
        if (member.UniqueAddress.Equals(_cluster.SelfUniqueAddress) || _nodes.ContainsKey(NodeId(member.UniqueAddress)))
            return;
        var node = new RemoteNode(member.UniqueAddress);
        _nodes[node.Id] = node;
        _replicator.Tell(Dsl.Subscribe(node.Key, Self));
        // Subscribing only tells of later changes; what is already there is read once.
        _replicator.Tell(Dsl.Get(node.Key, ReadLocal.Instance));
    }

    /// <summary>Records what one event says of <paramref name="member"/> and tells the manager every member as they are now.</summary>
    private void TellMembers(Member member, bool reachable, bool removed = false)
    {
        if (removed)
            _members.Remove(member.UniqueAddress);
        else
            _members[member.UniqueAddress] = member;
        if (reachable || removed)
            _unreachable.Remove(member.UniqueAddress);
        else
            _unreachable.Add(member.UniqueAddress);
        var members = _members.Values
            .Select(m => new PresenceNode(AddressOf(m.Address), m.Status.ToString().ToLowerInvariant(), !_unreachable.Contains(m.UniqueAddress)))
            .OrderBy(node => node.Address, StringComparer.Ordinal)
            .ToImmutableArray();
        _manager.Tell(new MembersChanged(members));
    }

    private void OnRemoved(Member member, bool graceful)
    {
        var id = NodeId(member.UniqueAddress);
        if (_nodes.Remove(id, out var node))
        {
            _replicator.Tell(Dsl.Unsubscribe(node.Key, Self));
            _manager.Tell(graceful ? new RemoteNodeLeft(id) : new RemoteRowsChanged(id, NodeRows.Empty));
        }
        if (IsOldestSurvivor(member))
        {
            // Cleared, not deleted: a deleted key can never be written again, and nothing is gained by it.
            var self = _cluster.SelfUniqueAddress;
            _log.Info("Clearing the presence key of removed node {0}", id);
            _replicator.Tell(Dsl.Update(KeyOf(member.UniqueAddress), LWWDictionary<string, string>.Empty, WriteLocal.Instance, data =>
            {
                foreach (var key in data.Keys.ToList())
                    data = data.Remove(self, key);
                return data;
            }));
        }
    }

    private bool IsOldestSurvivor(Member removed)
    {
        var oldest = _cluster.State.Members
            .Where(m => !m.UniqueAddress.Equals(removed.UniqueAddress) && m.Status is MemberStatus.Up or MemberStatus.Leaving)
            .Aggregate((Member?)null, (found, m) => found is null || m.IsOlderThan(found) ? m : found);
        return oldest is not null && oldest.UniqueAddress.Equals(_cluster.SelfUniqueAddress);
    }

    private void OnReachability(Member member, bool reachable)
    {
        if (!_nodes.TryGetValue(NodeId(member.UniqueAddress), out var node) || node.Reachable == reachable)
            return;
        node.Reachable = reachable;
        if (reachable)
        {
            _replicator.Tell(Dsl.Get(node.Key, ReadLocal.Instance));
            return;
        }
        // A node that was leaving is gone for good: its clients were told to reconnect, and their rows stay as disconnected.
        _manager.Tell(member.Status is MemberStatus.Leaving or MemberStatus.Exiting
            ? new RemoteNodeLeft(node.Id)
            : new RemoteRowsChanged(node.Id, NodeRows.Empty));
    }

    private void OnData(string keyId, object data)
    {
        var node = _nodes.Values.FirstOrDefault(n => n.Key.Id == keyId);
        if (node is null || !node.Reachable || data is not LWWDictionary<string, string> rows)
            return;
        _manager.Tell(new RemoteRowsChanged(node.Id, node.Decode(rows, _log)));
    }

    /// <summary>
    /// Encodes this node's rows into the change to its own key, on the replicator's stream (never on the actor's
    /// thread, and only by that stream): what the key holds is known here, so only rows that changed are written.
    /// </summary>
    private sealed class OwnKeyWriter(PresenceClusterSettings settings, UniqueAddress self, LWWDictionaryKey<string, string> ownKey, ILoggingAdapter log)
    {
        private ImmutableDictionary<string, string> _written = ImmutableDictionary<string, string>.Empty;
        // Each stored row is encoded once: a write reuses the JSON of every row that did not change.
        private Dictionary<string, (PresenceRow Row, string? Json)> _encodedRows = [];
        private Dictionary<string, (PresenceRow Row, string? Json)> _encodingRows = [];
        private int _leftOut;
        private readonly IWriteConsistency _consistency = WriteConsistency(settings.WriteConsistency);

        /// <summary>The write that brings the key to <paramref name="rows"/>, or null when it holds them already.</summary>
        public WriteOwnKey? Next(LocalRowsChanged rows)
        {
            var encoded = ReplicatedRows.Encode(
                EncodeRow(ReplicatedRows.SelfKey, rows.Self) ?? throw new InvalidOperationException("presence.cluster.max-row-bytes is too small for the gateway's own row."),
                rows.Rows.Select(row => (row.Key.Value, row.Value.Entry.Ts, EncodeRow(row.Key.Value, row.Value))),
                settings.MaxNodeBytes);
            _encodedRows = _encodingRows;
            _encodingRows = [];
            if (encoded.Left != _leftOut)
            {
                _leftOut = encoded.Left;
                if (encoded.Left > 0)
                    log.Warning("{0} presence rows of this node are not replicated: the node's key is at its bound of {1} bytes (presence.cluster.max-node-bytes)", encoded.Left, settings.MaxNodeBytes);
            }

            var removed = _written.Keys.Where(key => !encoded.Rows.ContainsKey(key)).ToImmutableArray();
            var changed = encoded.Rows.Where(row => !_written.TryGetValue(row.Key, out var json) || json != row.Value).ToImmutableArray();
            if (removed.IsEmpty && changed.IsEmpty)
                return null;
            _written = encoded.Rows;
            return new WriteOwnKey(Dsl.Update(ownKey, LWWDictionary<string, string>.Empty, _consistency, data =>
            {
                foreach (var key in removed)
                    data = data.Remove(self, key);
                foreach (var (key, json) in changed)
                    data = data.SetItem(self, key, json);
                return data;
            }));
        }

        private string? EncodeRow(string key, PresenceRow row)
        {
            var json = _encodedRows.TryGetValue(key, out var seen) && ReferenceEquals(seen.Row, row)
                ? seen.Json
                : ReplicatedRows.EncodeRow(key, row.Entry, settings.MaxRowBytes, row.Json);
            _encodingRows[key] = (row, json);
            return json;
        }
    }

    /// <summary>
    /// The timeout only bounds how long DData waits for the other nodes' acknowledgements: the write is applied
    /// locally at once and gossip still carries it to a node that missed it, so a timeout loses nothing.
    /// </summary>
    private static IWriteConsistency WriteConsistency(ClusterWriteConsistency level) => level switch
    {
        ClusterWriteConsistency.Majority => new WriteMajority(WriteTimeout),
        ClusterWriteConsistency.All => new WriteAll(WriteTimeout),
        _ => WriteLocal.Instance,
    };

    /// <summary>The failure detector's acceptable pause (3 s): a node silent for longer is unreachable anyway.</summary>
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Told by the stream to the replicator actor, which hands it to DData: replies come back to the actor.</summary>
    private sealed record WriteOwnKey(Update Update);

    /// <summary>A member whose key this node follows, with the rows it last decoded (a row is parsed again only when its JSON changes).</summary>
    private sealed class RemoteNode(UniqueAddress address)
    {
        private Dictionary<string, (string Json, PresenceEntry Entry)> _decoded = [];

        public string Id { get; } = NodeId(address);

        public LWWDictionaryKey<string, string> Key { get; } = KeyOf(address);

        public bool Reachable { get; set; } = true;

        public NodeRows Decode(LWWDictionary<string, string> data, ILoggingAdapter log)
        {
            var decoded = new Dictionary<string, (string Json, PresenceEntry Entry)>(data.Count);
            foreach (var (key, json) in data)
            {
                try
                {
                    decoded[key] = _decoded.TryGetValue(key, out var seen) && seen.Json == json ? seen : (json, ReplicatedRows.Decode(json));
                }
                catch (JsonException ex)
                {
                    log.Warning("Skipping an unreadable presence row {0} from {1}: {2}", key, Id, ex.Message);
                }
            }
            _decoded = decoded;
            var self = decoded.TryGetValue(ReplicatedRows.SelfKey, out var selfRow) ? selfRow.Entry : null;
            var rows = decoded.Where(row => row.Key != ReplicatedRows.SelfKey)
                .ToImmutableDictionary(row => PresenceKey.From(row.Key), row => row.Value.Entry);
            return new NodeRows(self, rows);
        }
    }
}
