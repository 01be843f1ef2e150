using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Xunit;
using static Presence.Gateway.Tests.Conformance.Frames;

namespace Presence.Gateway.Tests.Conformance;

/// <summary>captures/11 (the 200-row bound) and 12 (TTL expiry, here with a 2 s TTL instead of 5 min).</summary>
public sealed class PresenceBoundSpecs
{
    private static string CapId(int i) => "cap-" + i.ToString("000", CultureInfo.InvariantCulture);

    private static JsonObject CapBeacon(int i) => new() { ["text"] = $"cap beacon {i}", ["instanceId"] = CapId(i) };

    [Fact]
    public async Task Should_keep_self_and_the_199_newest_rows_after_205_beacons()
    {
        // Short ticks only serve as a clock edge (see below).
        await using var gateway = await TestGateway.StartAsync("gateway.tick-interval = 100ms");
        await using var watcher = await gateway.ConnectAndHandshakeAsync();
        for (var i = 0; i < 6; i++)
            await watcher.BeaconAsync(CapBeacon(i));
        // Rows written in the same millisecond tie on ts, and a tie makes "oldest" ambiguous. A tick
        // stamped after the newest of the first six rows guarantees every later row is strictly newer,
        // so the six (and the watcher's own row) are exactly the ones the bound must drop.
        var firstSix = await watcher.SystemPresenceAsync();
        var newestOfFirstSix = Enumerable.Range(0, 6).Max(i => SingleRowByInstance(firstSix, CapId(i))["ts"]!.GetValue<long>());
        await watcher.ReceiveEventAsync("tick", tick => tick["payload"]!["ts"]!.GetValue<long>() > newestOfFirstSix);

        for (var i = 6; i < 205; i++)
            await watcher.BeaconAsync(CapBeacon(i));

        var list = await watcher.SystemPresenceAsync();
        Assert.Equal(200, list.Count);
        AssertSelfFirst(list);
        AssertNewestFirst(list);
        Assert.Equal(
            Enumerable.Range(6, 199).Select(CapId).Order(StringComparer.Ordinal),
            Rows(list).Skip(1).Select(row => (string)row["instanceId"]!).Order(StringComparer.Ordinal));
        // The last presence event carries the bounded list too.
        var last = await watcher.ReceivePresenceAsync(l => HasInstance(l, CapId(204)));
        Assert.Equal(200, PresenceList(last).Count);
    }

    [Fact]
    public async Task Should_bound_the_list_to_the_configured_maximum_including_self()
    {
        await using var gateway = await TestGateway.StartAsync("presence.max-entries = 5");
        await using var watcher = await gateway.ConnectAndHandshakeAsync(Connects.Cli());

        for (var i = 0; i < 8; i++)
            await watcher.BeaconAsync(CapBeacon(i));

        var list = await watcher.SystemPresenceAsync();
        Assert.Equal(5, list.Count);
        AssertSelfFirst(list);
        Assert.True(HasInstance(list, CapId(7)));
    }

    /// <summary>
    /// OpenClaw drops expired rows silently, on reads; presence-rules.md has the manager's own sweep
    /// remove them and announce the change with a presence event. Live connections never expire:
    /// every WebSocket ping they answer renews their row.
    /// </summary>
    [Fact]
    public async Task Should_expire_rows_after_the_ttl_and_announce_it_while_live_rows_stay()
    {
        const string config = """
            presence.ttl = 2s
            presence.sweep-interval = 200ms
            gateway.ping-interval = 800ms
            """;
        await using var gateway = await TestGateway.StartAsync(config);
        await using var watcher = await gateway.ConnectAndHandshakeAsync(Connects.Cli());
        await using var live = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice("ttl-live"));
        var leaving = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice("ttl-ui-instance"));
        await watcher.BeaconAsync(new JsonObject { ["text"] = "ttl beacon", ["instanceId"] = "ttl-beacon" });
        await leaving.DisposeAsync();
        var disconnected = await watcher.ReceivePresenceAsync(list =>
            (string?)RowByInstance(list, "ttl-ui-instance")?["reason"] == "disconnect" && HasInstance(list, "ttl-beacon"));
        var since = Stopwatch.StartNew();
        var disconnectTs = SingleRowByInstance(PresenceList(disconnected), "ttl-ui-instance")["ts"]!.GetValue<long>();

        var expired = await watcher.ReceivePresenceAsync(list => !HasInstance(list, "ttl-ui-instance") && !HasInstance(list, "ttl-beacon"));

        // Not gone before the TTL (the row's ts was stamped a little before we saw it).
        Assert.True(since.Elapsed >= TimeSpan.FromMilliseconds(1500), $"expired after only {since.ElapsedMilliseconds} ms");
        Assert.True(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - disconnectTs >= 2000 - 50);
        var liveRow = SingleRowByInstance(PresenceList(expired), "ttl-live");
        Assert.Equal("connect", (string?)liveRow["reason"]);
        var list = await watcher.SystemPresenceAsync();
        Assert.False(HasInstance(list, "ttl-ui-instance"));
        Assert.False(HasInstance(list, "ttl-beacon"));
        Assert.True(HasInstance(list, "ttl-live"));
    }

    /// <summary>
    /// A client that only answers pings is renewed silently; readers still hear of it, with fresh <c>ts</c> values for it
    /// and the gateway's row, once nothing visible happened for the renewal interval (1 s here instead of 60 s).
    /// </summary>
    [Fact]
    public async Task Should_announce_silently_renewed_rows_to_readers_after_the_renewal_interval_of_quiet()
    {
        const string config = """
            presence.sweep-interval = 200ms
            presence.renewal-broadcast-interval = 1s
            gateway.ping-interval = 300ms
            """;
        await using var gateway = await TestGateway.StartAsync(config);
        await using var watcher = await gateway.ConnectAndHandshakeAsync(Connects.Cli());
        await using var live = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice("pinged-only"));
        var connected = await watcher.ReceivePresenceAsync(list => HasInstance(list, "pinged-only"));
        var connectTs = SingleRowByInstance(PresenceList(connected), "pinged-only")["ts"]!.GetValue<long>();
        var selfTs = PresenceList(connected)[0]!["ts"]!.GetValue<long>();

        // Nothing but pongs from here on: the next lists are renewal announcements.
        var renewed = await watcher.ReceivePresenceAsync(list => SingleRowByInstance(list, "pinged-only")["ts"]!.GetValue<long>() > connectTs);

        var list = PresenceList(renewed);
        Assert.Equal("connect", (string?)SingleRowByInstance(list, "pinged-only")["reason"]);
        Assert.True(list[0]!["ts"]!.GetValue<long>() > selfTs);
        Assert.True(renewed["stateVersion"]!["presence"]!.GetValue<long>() > connected["stateVersion"]!["presence"]!.GetValue<long>());
    }
}
