using System.Text.Json.Nodes;
using Xunit;
using static Presence.Gateway.Tests.Conformance.Frames;

namespace Presence.Gateway.Tests.Conformance;

/// <summary>
/// captures/04-tick-and-keepalive.json with a 300 ms tick instead of 30 s: a backend operator.read
/// watcher and a scope-less ui client both get ticks; each connection numbers its own events from
/// 1 without gaps, and events a connection may not see do not use up its numbers.
/// </summary>
public sealed class TickSpecs
{
    private const string ShortTicks = "gateway.tick-interval = 300ms";

    [Fact]
    public async Task Should_tick_every_connection_with_contiguous_seq_per_connection()
    {
        await using var gateway = await TestGateway.StartAsync(ShortTicks);
        await using var watcher = await gateway.ConnectAsync();
        var watcherHello = await watcher.HandshakeAsync(Connects.Backend(["operator.read"]));
        await using var ui = await gateway.ConnectAsync();
        var uiHello = await ui.HandshakeAsync(Connects.Params("test", "ui", [], instanceId: "tick-ui"));

        Assert.Equal(300, watcherHello["policy"]!["tickIntervalMs"]!.GetValue<long>());
        Assert.Equal(300, uiHello["policy"]!["tickIntervalMs"]!.GetValue<long>());
        // Three ticks each; the watcher also sees the presence events of both connects in between.
        await ReceiveTicksAsync(watcher, 3);
        await ReceiveTicksAsync(ui, 3);

        AssertContiguousFromOne(Seqs(watcher.History));
        AssertContiguousFromOne(Seqs(ui.History));
        Assert.Contains(watcher.History, f => IsEvent(f, "presence"));
        // The scope-less client is tracked but may not read presence.
        Assert.DoesNotContain(ui.History, f => IsEvent(f, "presence"));
    }

    [Fact]
    public async Task Should_send_ticks_carrying_only_the_server_time()
    {
        await using var gateway = await TestGateway.StartAsync(ShortTicks);
        await using var client = await gateway.ConnectAndHandshakeAsync(Connects.Cli());

        var ticks = await ReceiveTicksAsync(client, 3);

        foreach (var tick in ticks)
        {
            // {"type":"event","event":"tick","payload":{"ts":…},"seq":n}: no stateVersion.
            Assert.Equal(["event", "payload", "seq", "type"], tick.Select(p => p.Key).Order(StringComparer.Ordinal));
            var payload = Assert.IsType<JsonObject>(tick["payload"]);
            Assert.Equal(["ts"], payload.Select(p => p.Key));
            Assert.True(payload["ts"]!.GetValue<long>() > 0);
        }
        var times = ticks.Select(t => t["payload"]!["ts"]!.GetValue<long>()).ToList();
        // Never decreasing; on a starved machine the scheduler may fire two overdue ticks within one millisecond.
        Assert.True(times.SequenceEqual(times.Order()), $"tick ts decreasing: {string.Join(",", times)}");
        AssertContiguousFromOne(Seqs(client.History));
    }

    [Fact]
    public async Task Should_not_tick_before_hello()
    {
        await using var gateway = await TestGateway.StartAsync(ShortTicks);
        await using var client = await gateway.ConnectAsync();
        await client.ReceiveChallengeAsync();

        // Two tick periods without a connect: nothing but the challenge.
        await client.ExpectNoFrameAsync(TimeSpan.FromMilliseconds(700));

        Assert.False(client.IsClosed);
    }

    private static async Task<List<JsonObject>> ReceiveTicksAsync(TestClient client, int count)
    {
        var ticks = new List<JsonObject>();
        while (ticks.Count < count)
            ticks.Add(await client.ReceiveEventAsync("tick"));
        return ticks;
    }
}
