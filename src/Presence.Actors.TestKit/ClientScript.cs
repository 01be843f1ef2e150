namespace Presence.Actors.TestKit;

/// <summary>
/// What one simulated client does over virtual time. Every method returns the script, so calls chain;
/// times are offsets from the start of the simulation, and jitter is drawn from the scenario's seeded random.
/// A client with no script connects at the start and stays connected without a word.
/// </summary>
public sealed class ClientScript
{
    internal TimeSpan ConnectTime { get; private set; }
    internal TimeSpan ConnectWindow { get; private set; }
    internal TimeSpan BeaconInterval { get; private set; }
    internal TimeSpan BeaconJitter { get; private set; }
    internal TimeSpan PingInterval { get; private set; }
    internal Flapping? Flaps { get; private set; }
    internal List<(TimeSpan At, ScriptedAction Action)> OneOffs { get; } = [];

    /// <summary>Connects at <paramref name="at"/> instead of at the start.</summary>
    public ClientScript ConnectAt(TimeSpan at)
    {
        ConnectTime = NotNegative(at);
        return this;
    }

    /// <summary>Connects at a random moment within <paramref name="window"/> of the start, as a fleet of clients does after a restart.</summary>
    public ClientScript ConnectWithin(TimeSpan window)
    {
        ConnectWindow = NotNegative(window);
        return this;
    }

    /// <summary>While connected, sends a periodic <c>system-event</c> beacon every <paramref name="interval"/> ± <paramref name="jitter"/>.</summary>
    public ClientScript BeaconEvery(TimeSpan interval, TimeSpan jitter = default)
    {
        (BeaconInterval, BeaconJitter) = Interval(interval, jitter);
        return this;
    }

    /// <summary>
    /// While connected, answers the gateway's WebSocket ping every <paramref name="pingInterval"/> (the gateway's
    /// <c>--ping-interval</c>, 25 s by default): each pong renews the row without a presence event.
    /// </summary>
    public ClientScript KeepAlive(TimeSpan pingInterval)
    {
        (PingInterval, _) = Interval(pingInterval, TimeSpan.Zero);
        return this;
    }

    /// <summary>
    /// Drops its connection every <paramref name="every"/> ± <paramref name="jitter"/> (a close the gateway sees) and
    /// reconnects <paramref name="offline"/> later, with its instance id or, when <paramref name="keepInstanceId"/> is false, without one.
    /// </summary>
    public ClientScript Flap(TimeSpan every, TimeSpan offline, TimeSpan jitter = default, bool keepInstanceId = true)
    {
        var (interval, spread) = Interval(every, jitter);
        Flaps = new Flapping(interval, spread, NotNegative(offline), keepInstanceId);
        return this;
    }

    /// <summary>Closes its connection at <paramref name="at"/>: the row stays, marked <c>disconnect</c>, until the TTL.</summary>
    public ClientScript DisconnectAt(TimeSpan at) => Add(at, ScriptedAction.Disconnect);

    /// <summary>
    /// Opens a new connection at <paramref name="at"/>, with its instance id or, when <paramref name="keepInstanceId"/> is false,
    /// without one. It also wakes a silent client, whose old connection never closed.
    /// </summary>
    public ClientScript ReconnectAt(TimeSpan at, bool keepInstanceId = true) =>
        Add(at, keepInstanceId ? ScriptedAction.Reconnect : ScriptedAction.ReconnectWithoutInstanceId);

    /// <summary>
    /// Falls silent at <paramref name="at"/>: no beacon, no pong and no close (a sleeping laptop); only the TTL removes its row.
    /// It does nothing more until a scripted reconnect.
    /// </summary>
    public ClientScript GoSilentAt(TimeSpan at) => Add(at, ScriptedAction.GoSilent);

    /// <summary>Sends one beacon at <paramref name="at"/>, whatever its periodic ones do.</summary>
    public ClientScript BeaconAt(TimeSpan at) => Add(at, ScriptedAction.Beacon);

    private ClientScript Add(TimeSpan at, ScriptedAction action)
    {
        OneOffs.Add((NotNegative(at), action));
        return this;
    }

    private static (TimeSpan Interval, TimeSpan Jitter) Interval(TimeSpan interval, TimeSpan jitter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(jitter, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(jitter, interval);
        return (interval, jitter);
    }

    private static TimeSpan NotNegative(TimeSpan at)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(at, TimeSpan.Zero);
        return at;
    }

    internal sealed record Flapping(TimeSpan Every, TimeSpan Jitter, TimeSpan Offline, bool KeepInstanceId);
}

internal enum ScriptedAction
{
    Disconnect,
    Reconnect,
    ReconnectWithoutInstanceId,
    GoSilent,
    Beacon,
}
