using Akka.Actor;
using Presence.Actors.Domain;
using Presence.Actors.PresenceManager;

namespace Presence.Gateway.Operators;

/// <summary>
/// Turns the manager's change notifications into the presence instruments of <see cref="GatewayMetrics"/>:
/// rows, changes (the <c>stateVersion</c> delta) and removals. It observes from outside the manager, so the
/// engine carries no metrics code; the price is that removals are inferred from consecutive announced lists
/// (a row that both appears and goes within one coalescing interval is not seen).
/// </summary>
internal sealed class PresenceMetricsActor : UntypedActor
{
    private readonly IActorRef _manager;
    private Dictionary<string, int> _rowsByKey = [];
    private long _rows;
    private long? _version;

    public PresenceMetricsActor(IActorRef manager) => _manager = manager;

    public static Props Props(IActorRef manager) => Akka.Actor.Props.Create(() => new PresenceMetricsActor(manager));

    protected override void PreStart()
    {
        _manager.Tell(new PresenceCommands.Subscribe(Self));
        // The list exists before its first change (the gateway's own row), so the baseline is asked for.
        _manager.Tell(PresenceQueries.GetPresence.Instance);
    }

    /// <summary>A stopped gateway takes its rows out of the process-wide total.</summary>
    protected override void PostStop() => GatewayMetrics.PresenceAnnounced(-_rows, 0, 0);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case PresenceEvents.PresenceChanged changed:
                Observe(changed.Snapshot);
                break;
            case PresenceQueries.GetPresenceResponse response:
                Observe(response.Snapshot);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Observe(PresenceSnapshot snapshot)
    {
        // The baseline answer and the first notification may cross; an older list is already accounted for.
        if (snapshot.StateVersion < _version)
            return;
        var rowsByKey = new Dictionary<string, int>(snapshot.Entries.Length, StringComparer.Ordinal);
        foreach (var entry in snapshot.Entries)
        {
            var key = Key(entry);
            rowsByKey[key] = rowsByKey.GetValueOrDefault(key) + 1;
        }
        long removals = 0;
        if (_version is not null)
        {
            foreach (var (key, count) in _rowsByKey)
                removals += Math.Max(0, count - rowsByKey.GetValueOrDefault(key));
        }
        var changes = _version is { } previous ? snapshot.StateVersion - previous : 0;
        GatewayMetrics.PresenceAnnounced(snapshot.Entries.Length - _rows, changes, removals);
        _rows = snapshot.Entries.Length;
        _rowsByKey = rowsByKey;
        _version = snapshot.StateVersion;
    }

    /// <summary>An approximation of the presence key from the row's visible fields (the key itself is not on the wire).</summary>
    private static string Key(PresenceEntry entry) =>
        (entry.DeviceId ?? entry.InstanceId ?? entry.Host ?? entry.Ip ?? entry.Text).ToUpperInvariant();
}
