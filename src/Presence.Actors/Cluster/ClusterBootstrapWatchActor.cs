using Akka.Actor;
using Akka.Cluster;
using Akka.Discovery;
using Akka.Event;

namespace Presence.Actors.Cluster;

/// <summary>
/// Says, in the log and to <c>/readyz</c>, why a bootstrapping node has not joined yet: it looks its peers up the
/// way the bootstrap does and reports how many of the required ones it found. Stops looking once this node is up.
/// </summary>
public sealed class ClusterBootstrapWatchActor : ReceiveActor, IWithTimers
{
    /// <summary>How often the peers are looked up again while this node is not a member.</summary>
    public static readonly TimeSpan LookupInterval = TimeSpan.FromSeconds(3);

    private const string LookupTimer = "lookup";

    private readonly PresenceClusterSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private BootstrapStatus _status;

    public ClusterBootstrapWatchActor(PresenceClusterSettings settings)
    {
        _settings = settings;
        _status = new BootstrapStatus(false, $"cluster bootstrap started: looking up '{settings.ServiceName}' via {Method} discovery");
        Receive<LookUp>(_ => StartLookup());
        Receive<ServiceDiscovery.Resolved>(Found);
        Receive<Status.Failure>(failure => Report($"cluster bootstrap: {Method} discovery of '{_settings.ServiceName}' failed: {failure.Cause.Message}"));
        Receive<ClusterEvent.MemberUp>(up => up.Member.UniqueAddress.Equals(_cluster.SelfUniqueAddress), _ => Joined());
        Receive<ClusterEvent.MemberWeaklyUp>(up => up.Member.UniqueAddress.Equals(_cluster.SelfUniqueAddress), _ => Joined());
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<GetStatus>(_ => Sender.Tell(_status));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    private string Method => _settings.Discovery.ToString().ToLowerInvariant();

    public static Props Props(PresenceClusterSettings settings) => Akka.Actor.Props.Create(() => new ClusterBootstrapWatchActor(settings));

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));
        Timers.StartPeriodicTimer(LookupTimer, LookUp.Instance, TimeSpan.Zero, LookupInterval);
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void StartLookup()
    {
        var lookup = new Lookup(_settings.ServiceName, _settings.Discovery == ClusterDiscovery.Kubernetes ? ClusterBootstrapHosting.ManagementPortName : null, "tcp");
        Discovery.Get(Context.System).Default.Lookup(lookup, LookupInterval).PipeTo(Self);
    }

    private void Found(ServiceDiscovery.Resolved resolved)
    {
        var peers = string.Join(", ", resolved.Addresses.Select(target => target.Port is { } port ? $"{target.Host}:{port}" : target.Host));
        var missing = resolved.Addresses.Count < _settings.RequiredContactPoints
            ? $"waiting for {_settings.RequiredContactPoints}: no cluster forms with fewer"
            : "probing them; the lowest address forms the cluster once all answer with none and the set is stable";
        Report($"cluster bootstrap: not joined yet; {Method} discovery of '{_settings.ServiceName}' found {resolved.Addresses.Count} of {_settings.RequiredContactPoints} peers [{peers}], {missing}");
    }

    private void Report(string description)
    {
        if (_status.Joined)
            return;
        // Logged when it changes: a node stuck on the same finding says it once, not every few seconds.
        if (description != _status.Description)
            _log.Warning("{0}", description);
        _status = new BootstrapStatus(false, description);
    }

    private void Joined()
    {
        if (_status.Joined)
            return;
        Timers.Cancel(LookupTimer);
        _status = new BootstrapStatus(true, $"joined the cluster as {_cluster.SelfAddress} via {Method} discovery");
        _log.Info("{0}", _status.Description);
    }

    /// <summary>Answered with a <see cref="BootstrapStatus"/>.</summary>
    public sealed class GetStatus
    {
        public static readonly GetStatus Instance = new();

        private GetStatus()
        {
        }
    }

    public sealed record BootstrapStatus(bool Joined, string Description);

    private sealed class LookUp
    {
        public static readonly LookUp Instance = new();

        private LookUp()
        {
        }
    }
}
