using System.Diagnostics;
using System.Diagnostics.Metrics;
using Presence.Actors.PresenceManager;
using Presence.Gateway.Protocol;

namespace Presence.Gateway.Operators;

/// <summary>
/// The gateway's connection and event instruments, on one <see cref="Meter"/> that OpenTelemetry exports at
/// <c>/metrics</c> (the presence rows, changes and removals are the manager's own, <see cref="PresenceInstruments"/>).
/// Static so that the hot paths (actors, socket loops) record with one call and no injected state; the
/// instruments are process-wide, so two gateways in one process (as in the tests) add up.
/// </summary>
internal static class GatewayMetrics
{
    public const string MeterName = "Presence.Gateway";

    private static readonly Meter Meter = new(MeterName, GatewayApp.Version);

    // Levels are kept here and observed at each scrape, not recorded as +1/-1: a listener that starts late
    // (the metrics pipeline starts after the actor system) would otherwise miss the first changes for good.
    private static long _openConnections;
    private static long _connectionActors;

    private static readonly ObservableUpDownCounter<long> OpenConnections = Meter.CreateObservableUpDownCounter(
        "presence.gateway.connections.open", () => Interlocked.Read(ref _openConnections), "{connection}", "WebSocket connections currently open, authenticated or not.");

    // Counted by the actors' own PreStart/PostStop rather than by the supervisor's bookkeeping (connections.open):
    // an actor that outlives its socket, or a supervisor that forgets one, shows up as a difference between the two.
    private static readonly ObservableGauge<long> ConnectionActors = Meter.CreateObservableGauge(
        "presence.gateway.connection_actors", () => Interlocked.Read(ref _connectionActors), "{actor}", "ConnectionActors alive: started and not yet stopped.");

    private static readonly Counter<long> Handshakes = Meter.CreateCounter<long>(
        "presence.gateway.handshakes", "{handshake}", "Connect handshakes by outcome (ok, failed) and, for failures, reason.");

    private static readonly Counter<long> EventsSent = Meter.CreateCounter<long>(
        "presence.gateway.events.sent", "{event}", "Events (presence, tick, shutdown) written to sockets.");

    private static readonly Counter<long> EventsDropped = Meter.CreateCounter<long>(
        "presence.gateway.events.dropped", "{event}", "Events not delivered, by reason: superseded (a newer presence list replaced it), buffer_full, slow_consumer.");

    private static readonly Counter<long> Beacons = Meter.CreateCounter<long>(
        "presence.gateway.beacons", "{beacon}", "Accepted system-event beacons; rate() of it is the beacon rate.");

    /// <summary>
    /// Creates the instruments now: static fields are initialised on first use, so without this a scrape before
    /// the first connection would find none of them instead of zeros (and a leak check no baseline).
    /// </summary>
    public static void CreateInstruments() => GC.KeepAlive(Meter);

    public static void ConnectionOpened() => Interlocked.Increment(ref _openConnections);

    public static void ConnectionClosed() => Interlocked.Decrement(ref _openConnections);

    public static void ConnectionActorStarted() => Interlocked.Increment(ref _connectionActors);

    public static void ConnectionActorStopped() => Interlocked.Decrement(ref _connectionActors);

    public static void HandshakeSucceeded() => Handshakes.Add(1, new KeyValuePair<string, object?>("outcome", "ok"));

    /// <summary>A handshake that ended with an error answer; the reason is the error's detail code, else its message up to the colon.</summary>
    public static void HandshakeFailed(GatewayError error) =>
        HandshakeFailed(error.Details?["code"]?.GetValue<string>() ?? error.Message.Split(':', 2)[0]);

    /// <summary>
    /// <paramref name="reason"/> must come from a fixed vocabulary (never a client's text), so that the
    /// label has few values: it is normalised to lower_snake_case.
    /// </summary>
    public static void HandshakeFailed(string reason)
    {
        var tags = new TagList
        {
            { "outcome", "failed" },
            { "reason", Normalise(reason) },
        };
        Handshakes.Add(1, tags);
    }

    public static void EventSent() => EventsSent.Add(1);

    public static void EventDropped(string reason) => EventsDropped.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public static void BeaconAccepted() => Beacons.Add(1);

    private static string Normalise(string reason) =>
        string.Create(reason.Length, reason, (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
                span[i] = char.IsAsciiLetterOrDigit(source[i]) ? char.ToLowerInvariant(source[i]) : '_';
        });
}
