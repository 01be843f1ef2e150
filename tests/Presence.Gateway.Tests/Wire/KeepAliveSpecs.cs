using System.Text.Json.Nodes;
using Presence.Gateway.Tests.Conformance;
using Presence.Gateway.Transport;
using Xunit;
using static Presence.Gateway.Tests.Wire.WireClient;

namespace Presence.Gateway.Tests.Wire;

/// <summary>
/// The keep-alive of the supervisor's sweep, seen on the wire: every authenticated socket is pinged
/// once per gateway.ping-interval; one that answered (anything, a pong included) since the last ping
/// stays, one that did not is dropped at the next sweep, so within two intervals.
/// </summary>
public sealed class KeepAliveSpecs
{
    /// <summary>Short, yet long enough that a test thread on a loaded machine answers within one interval, as a live client does.</summary>
    private const string ShortPings = "gateway.ping-interval = 1s";

    private static async Task<WireClient> AuthenticatedAsync(TestGateway gateway)
    {
        var client = await UpgradeAsync(gateway);
        try
        {
            var connect = new JsonObject { ["type"] = "req", ["id"] = "c1", ["method"] = "connect", ["params"] = Connects.Backend() };
            await client.SendTextAsync(connect.ToJsonString());
            Assert.True((bool?)(await client.ReceiveResponseAsync("c1"))["ok"]);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>The next ping, skipping the text frames (ticks, presence) that may come between.</summary>
    private static async Task<WireFrame> ReceivePingAsync(WireClient client)
    {
        while (true)
        {
            var frame = await client.ReceiveFrameAsync();
            if (frame.Opcode == Opcode.Text)
                continue;
            Assert.True(frame.Opcode == Opcode.Ping, $"expected a ping, got {frame}");
            Assert.False(frame.Masked, "a server ping was masked");
            Assert.True(frame.Fin && frame.Reserved == 0);
            return frame;
        }
    }

    [Fact]
    public async Task Should_keep_a_socket_that_answers_every_ping()
    {
        await using var gateway = await TestGateway.StartAsync(ShortPings);
        await using var client = await AuthenticatedAsync(gateway);

        for (var i = 0; i < 3; i++)
        {
            var ping = await ReceivePingAsync(client);
            await client.SendAsync(Frame(Opcode.Pong, ping.Payload));
        }
        await client.SendTextAsync("""{"type":"req","id":"h1","method":"health"}""");

        Assert.True((bool?)(await client.ReceiveResponseAsync("h1"))["ok"]);
    }

    [Fact]
    public async Task Should_drop_a_socket_that_never_answers_at_the_sweep_after_its_ping()
    {
        await using var gateway = await TestGateway.StartAsync(ShortPings);
        await using var client = await AuthenticatedAsync(gateway);

        var frames = await client.ReceiveUntilEndAsync();

        // One ping, then the next sweep drops the socket: no second ping, and no close handshake with a peer that is gone.
        Assert.Equal(1, frames.Count(f => f.Opcode == Opcode.Ping));
        Assert.DoesNotContain(frames, f => f.Opcode == Opcode.Close);
    }

    /// <summary>Before its hello a socket is not pinged: the handshake timeout, not the keep-alive, bounds it.</summary>
    [Fact]
    public async Task Should_not_ping_a_socket_before_its_handshake()
    {
        await using var gateway = await TestGateway.StartAsync(ShortPings);
        await using var pending = await UpgradeAsync(gateway);
        await using var authenticated = await AuthenticatedAsync(gateway);
        // Two pings answered on the authenticated socket are two sweeps that passed the pending one by.
        for (var i = 0; i < 2; i++)
            await authenticated.SendAsync(Frame(Opcode.Pong, (await ReceivePingAsync(authenticated)).Payload));

        await pending.SendAsync(Frame(Opcode.Ping, "still there?"u8));

        Assert.Equal("connect.challenge", (string?)(await pending.ReceiveJsonAsync())["event"]);
        var pong = await pending.ReceiveFrameAsync();
        Assert.Equal(Opcode.Pong, pong.Opcode);
        Assert.Equal("still there?"u8.ToArray(), pong.Payload);
    }
}
