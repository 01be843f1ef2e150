using System.Text;
using Akka.Actor;
using Presence.Actors.Domain;
using Presence.Actors.PresenceManager;

namespace Presence.Actors.TestKit;

/// <summary>One <c>presence</c> event as a simulated reader received it: when, at which <c>stateVersion</c>, and the list it carried.</summary>
/// <param name="At">Virtual time since the start of the simulation.</param>
/// <param name="StateVersion">The event's <c>stateVersion.presence</c>.</param>
/// <param name="List">The presence list the event carried.</param>
public sealed record ReceivedPresence(TimeSpan At, long StateVersion, PresenceSnapshot List);

/// <summary>
/// Everything one simulated reader (an operator subscribed to presence, as each gateway connection is) received.
/// A scenario run with <c>keepEveryList: false</c> keeps only <see cref="Count"/> and <see cref="Last"/>.
/// </summary>
public sealed class PresenceReaderLog
{
    private readonly List<ReceivedPresence> _events = [];
    private readonly bool _keepEveryList;

    internal PresenceReaderLog(bool keepEveryList) => _keepEveryList = keepEveryList;

    /// <summary>Every event in the order received; empty when the scenario did not keep every list.</summary>
    public IReadOnlyList<ReceivedPresence> Events => _events;

    /// <summary>How many events the reader received.</summary>
    public long Count { get; private set; }

    /// <summary>The latest event received; null before the first.</summary>
    public ReceivedPresence? Last { get; private set; }

    internal event Action<ReceivedPresence>? Received;

    /// <summary>
    /// Writes the events as NDJSON, one <c>{"at":ms,"stateVersion":n,"presence":[...]}</c> per line with the list
    /// exactly as it goes on the wire: two runs with the same seed write the same bytes.
    /// </summary>
    public void WriteNdjson(Stream stream)
    {
        foreach (var received in _events)
        {
            stream.Write(Encoding.UTF8.GetBytes($"{{\"at\":{(long)received.At.TotalMilliseconds},\"stateVersion\":{received.StateVersion},\"presence\":"));
            stream.Write(received.List.Json.Span);
            stream.Write("}\n"u8);
        }
    }

    internal void Record(TimeSpan at, PresenceSnapshot list)
    {
        var received = new ReceivedPresence(at, list.StateVersion, list);
        Count++;
        Last = received;
        if (_keepEveryList)
            _events.Add(received);
        Received?.Invoke(received);
    }
}

/// <summary>A subscriber to the manager's change notifications, as the gateway's <c>connections</c> actor is.</summary>
internal sealed class SimulatedReader(PresenceReaderLog log, Func<TimeSpan> elapsed) : UntypedActor
{
    protected override void OnReceive(object message)
    {
        if (message is PresenceEvents.PresenceChanged changed)
            log.Record(elapsed(), changed.Snapshot);
        else
            Unhandled(message);
    }
}
