using System.Diagnostics;
using System.Text.Json.Nodes;
using Xunit;
using static Presence.Gateway.Tests.Conformance.Frames;

namespace Presence.Gateway.Tests.Conformance;

/// <summary>Product behaviour from presence-rules.md, observed over real sockets.</summary>
public sealed class PresenceBehaviourSpecs
{
    [Fact]
    public async Task Should_deliver_a_presence_event_to_a_watcher_after_another_clients_system_event()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync(Connects.Cli(["operator.read"]));
        await using var sender = await gateway.ConnectAndHandshakeAsync(Connects.Cli());

        await sender.BeaconAsync(new JsonObject { ["text"] = "hello from sender", ["instanceId"] = "sender-beacon", ["reason"] = "periodic" });

        var announced = await watcher.ReceivePresenceAsync(list => HasInstance(list, "sender-beacon"));
        Assert.Equal("periodic", (string?)RowByInstance(PresenceList(announced), "sender-beacon")!["reason"]);
        Assert.NotNull(announced["stateVersion"]?["presence"]);
        AssertContiguousFromOne(Seqs(watcher.History));
    }

    /// <summary>
    /// Readers that stop reading must not slow the sender: with several stalled readers and a large
    /// list (megabytes per presence event, so their socket buffers fill up), every beacon is
    /// still answered promptly. When the readers resume, each gets the latest list.
    /// </summary>
    [Fact]
    public async Task Should_answer_system_event_without_waiting_for_stalled_presence_readers()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var sender = await gateway.ConnectAndHandshakeAsync(Connects.Cli());
        var stalled = new List<TestClient>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var reader = await gateway.ConnectAndHandshakeAsync(Connects.Cli(["operator.read"]));
                reader.PauseReading();
                stalled.Add(reader);
            }
            // Rows near the beacon text cap make each list about 600 KB, far beyond what the stalled sockets can absorb.
            var padding = new string('p', 4000);
            var slowest = TimeSpan.Zero;

            for (var i = 0; i < 150; i++)
            {
                var sent = Stopwatch.StartNew();
                await sender.BeaconAsync(new JsonObject { ["text"] = $"bulk {i} {padding}", ["instanceId"] = $"bulk-{i}" });
                slowest = sent.Elapsed > slowest ? sent.Elapsed : slowest;
            }

            // Generous for a loaded 2-core machine, yet far below what blocking on a full socket would take (forever).
            Assert.True(slowest < TimeSpan.FromSeconds(2), $"slowest system-event reply took {slowest.TotalMilliseconds:0} ms");
            foreach (var reader in stalled)
            {
                reader.ResumeReading();
                await reader.ReceivePresenceAsync(list => HasInstance(list, "bulk-149"));
            }
        }
        finally
        {
            foreach (var reader in stalled)
                await reader.DisposeAsync();
        }
    }

    [Fact]
    public async Task Should_keep_one_row_when_a_client_reconnects_with_a_stable_instance_id()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync(Connects.Cli());
        var first = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice("stable-instance"));
        await first.DisposeAsync();
        await watcher.ReceivePresenceAsync(list => (string?)RowByInstance(list, "stable-instance")?["reason"] == "disconnect");

        await using var second = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice("stable-instance"));

        var announced = await watcher.ReceivePresenceAsync(list => (string?)RowByInstance(list, "stable-instance")?["reason"] == "connect");
        SingleRowByInstance(PresenceList(announced), "stable-instance");
        SingleRowByInstance(await watcher.SystemPresenceAsync(), "stable-instance");
    }

    /// <summary>A client that reconnects before its old socket is noticed gone: the old socket's close must not mark the new connection's row.</summary>
    [Fact]
    public async Task Should_not_let_a_stale_socket_mark_the_reconnected_row_disconnected()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync(Connects.Cli());
        var old = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice("overlap-instance"));
        await using var fresh = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice("overlap-instance"));

        await old.DisposeAsync();
        // Any later change is announced after the old socket's close was handled.
        await watcher.BeaconAsync(new JsonObject { ["text"] = "marker", ["instanceId"] = "marker" });

        var announced = await watcher.ReceivePresenceAsync(list => HasInstance(list, "marker"));
        Assert.Equal("connect", (string?)SingleRowByInstance(PresenceList(announced), "overlap-instance")["reason"]);
    }

    [Fact]
    public async Task Should_never_record_a_loopback_remote_address_as_ip()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync(Connects.Cli());

        await using var ui = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice("loopback-ui"));

        var announced = await watcher.ReceivePresenceAsync(list => HasInstance(list, "loopback-ui"));
        Assert.Null(SingleRowByInstance(PresenceList(announced), "loopback-ui")["ip"]);
        // Not even the backend watcher (tracked) or any other connection row.
        Assert.All(Rows(PresenceList(announced)).Where(row => (string?)row["reason"] != "self"), row => Assert.Null(row["ip"]));
    }

    [Fact]
    public async Task Should_not_overwrite_a_client_reported_ip_with_a_loopback_address()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync(Connects.Cli());
        await watcher.BeaconAsync(new JsonObject { ["text"] = "tunnelled mac", ["instanceId"] = "tunnelled", ["ip"] = "10.1.2.3" });

        // The same client now connects through an SSH tunnel, i.e. from 127.0.0.1.
        await using var ui = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice("tunnelled"));

        var announced = await watcher.ReceivePresenceAsync(list => (string?)RowByInstance(list, "tunnelled")?["reason"] == "connect");
        var row = SingleRowByInstance(PresenceList(announced), "tunnelled");
        Assert.Equal("10.1.2.3", (string?)row["ip"]);
        Assert.Equal("Probe-UI-Host", (string?)row["host"]);
    }

    /// <summary>A beacon, unlike a connection, stores whatever ip it carries, loopback included (§6.10).</summary>
    [Fact]
    public async Task Should_store_a_loopback_ip_that_a_beacon_reports_itself()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync(Connects.Cli());

        await watcher.BeaconAsync(new JsonObject { ["text"] = "local agent", ["instanceId"] = "local-agent", ["ip"] = "127.0.0.1" });

        Assert.Equal("127.0.0.1", (string?)RowByInstance(await watcher.SystemPresenceAsync(), "local-agent")!["ip"]);
    }
}
