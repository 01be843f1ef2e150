using System.Net;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Presence.Gateway.Tests.Conformance;
using Xunit;

namespace Presence.Gateway.Tests.Hardening;

/// <summary>Hostile and overloading clients on real sockets: each gets a clear refusal or close, and nobody else is held up.</summary>
public sealed class OverloadSpecs
{
    private static readonly IPAddress Attacker = IPAddress.Parse("127.0.0.2");

    [Fact]
    public async Task Should_refuse_handshake_floods_from_one_address_while_others_connect_and_close_the_rest_at_the_timeout()
    {
        // The timeout outlasts the flood (on a loaded machine too), so no slot frees up while it runs.
        await using var gateway = await TestGateway.StartAsync("gateway.handshake-timeout = 10s\ngateway.max-pending-handshakes-per-address = 32");
        const int Attempts = 2_000;
        var opened = new List<TestClient>();
        var refused = 0;
        // Bounded concurrency: 2,000 attempts, 100 at a time, none of which ever sends connect.
        foreach (var batch in Enumerable.Range(0, Attempts).Chunk(100))
        {
            var results = await Task.WhenAll(batch.Select(async _ =>
            {
                try
                {
                    return await gateway.ConnectAsync(from: Attacker);
                }
                catch (WebSocketException)
                {
                    return null;
                }
            }));
            opened.AddRange(results.OfType<TestClient>());
            refused += results.Count(client => client is null);
        }

        Assert.Equal(32, opened.Count);
        Assert.Equal(Attempts - 32, refused);

        await using var legitimate = await gateway.ConnectAndHandshakeAsync();
        Assert.NotEmpty(await legitimate.SystemPresenceAsync());

        // The supervisor's handshake sweep runs every tenth of the timeout (at most a second), so a silent socket closes
        // up to a second after its deadline; the wait allows for that and a loaded machine.
        foreach (var silent in opened)
        {
            var close = await silent.WaitForCloseAsync(TimeSpan.FromSeconds(15));
            Assert.Equal(1000, close.Code);
            await silent.DisposeAsync();
        }
    }

    [Fact]
    public async Task Should_rate_limit_failed_logins_per_address_and_spare_other_addresses()
    {
        await using var gateway = await TestGateway.StartAsync("gateway.auth-limit-exempts-loopback = off\ngateway.auth-failures-per-address = 5");
        for (var attempt = 0; attempt < 5; attempt++)
            Assert.Equal("AUTH_TOKEN_MISMATCH", await RejectedDetailAsync(gateway, "wrong", Attacker));

        await using var limited = await gateway.ConnectAsync(from: Attacker);
        var response = await limited.SendConnectAsync(Connects.Backend(token: TestGateway.Token));
        var error = Assert.IsType<JsonObject>(response["error"]);
        Assert.Equal("AUTH_RATE_LIMITED", (string?)error["details"]?["code"]);
        Assert.True((bool?)error["retryable"]);
        Assert.InRange((int)error["retryAfterMs"]!, 1, 60_000);
        Assert.Equal(1008, (await limited.WaitForCloseAsync()).Code);

        await using var elsewhere = await gateway.ConnectAndHandshakeAsync(from: IPAddress.Parse("127.0.0.3"));
        Assert.NotEmpty(await elsewhere.SystemPresenceAsync());
    }

    [Fact]
    public async Task Should_not_rate_limit_loopback_by_default()
    {
        await using var gateway = await TestGateway.StartAsync("gateway.auth-failures-per-address = 2");
        for (var attempt = 0; attempt < 6; attempt++)
            Assert.Equal("AUTH_TOKEN_MISMATCH", await RejectedDetailAsync(gateway, "wrong", IPAddress.Loopback));
    }

    [Fact]
    public async Task Should_close_a_reader_that_never_reads_as_a_slow_consumer()
    {
        await using var gateway = await TestGateway.StartAsync("gateway.max-buffered-bytes = 262144\npresence.broadcast-interval = 10s");
        await using var writer = await gateway.ConnectAndHandshakeAsync();
        // A list of about 100 KB: the hello fits the 256 KB bound, a few unread answers do not.
        for (var i = 0; i < 100; i++)
            await writer.BeaconAsync(new JsonObject { ["text"] = new string('x', 1000), ["instanceId"] = $"bulk-{i}" });

        await using var stalled = await gateway.ConnectAndHandshakeAsync();
        stalled.PauseReading();
        // About 15 MB of answers: more than the kernel's socket buffers absorb, so they pile up in the gateway.
        // Sent quickly, so that reading resumes well within the gateway's grace for a close handshake.
        try
        {
            for (var i = 0; i < 150; i++)
                await stalled.SendRequestAsync("system-presence", new JsonObject());
        }
        catch (WebSocketException)
        {
            // The gateway may close it before all requests are out: that is the behaviour under test.
        }
        stalled.ResumeReading();

        var close = await stalled.WaitForCloseAsync(TimeSpan.FromSeconds(20));
        Assert.Equal((1008, "slow consumer"), (close.Code, close.Reason));
        Assert.NotEmpty(await writer.SystemPresenceAsync());
    }

    [Fact]
    public async Task Should_keep_answering_others_while_one_client_floods_system_event()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var flooder = await gateway.ConnectAndHandshakeAsync();
        await using var neighbour = await gateway.ConnectAndHandshakeAsync();
        const int Beacons = 10_000;

        var flood = Task.Run(async () =>
        {
            for (var i = 0; i < Beacons; i++)
                await flooder.SendRequestAsync("system-event", new JsonObject { ["text"] = $"flood {i}", ["instanceId"] = $"flood-{i % 500}" });
        });
        for (var i = 0; i < 50; i++)
            Assert.NotEmpty(await neighbour.SystemPresenceAsync());
        await flood.WaitAsync(TimeSpan.FromSeconds(60));

        var answered = 0;
        await flooder.ReceiveUntilAsync(frame => (string?)frame["type"] == "res" && ++answered == Beacons, TimeSpan.FromSeconds(60), "every beacon answered");
    }

    [Fact]
    public async Task Should_refuse_oversized_beacon_fields_and_keep_rows_bounded()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAndHandshakeAsync();

        var tooLong = await client.CallAsync("system-event", new JsonObject { ["text"] = new string('t', 4097) });
        Assert.Equal("invalid system-event params: at /text: must NOT have more than 4096 characters", (string?)tooLong["error"]?["message"]);
        var longHost = await client.CallAsync("system-event", new JsonObject { ["text"] = "ok", ["host"] = new string('h', 257) });
        Assert.Equal("invalid system-event params: at /host: must NOT have more than 256 characters", (string?)longHost["error"]?["message"]);

        // Unions only grow; without a cap, repeated beacons with new scopes would grow one row forever.
        for (var batch = 0; batch < 10; batch++)
        {
            var scopes = new JsonArray([.. Enumerable.Range(batch * 10, 10).Select(i => (JsonNode)$"scope-{i}")]);
            await client.BeaconAsync(new JsonObject { ["text"] = "growing", ["instanceId"] = "grower", ["scopes"] = scopes });
        }
        var row = (await client.SystemPresenceAsync()).OfType<JsonObject>().Single(r => (string?)r["instanceId"] == "grower");
        Assert.Equal(32, row["scopes"]!.AsArray().Count);
    }

    private static async Task<string?> RejectedDetailAsync(TestGateway gateway, string token, IPAddress from)
    {
        await using var client = await gateway.ConnectAsync(from: from);
        var response = await client.SendConnectAsync(Connects.Backend(token: token));
        Assert.False((bool?)response["ok"]);
        await client.WaitForCloseAsync();
        return (string?)response["error"]?["details"]?["code"];
    }
}
