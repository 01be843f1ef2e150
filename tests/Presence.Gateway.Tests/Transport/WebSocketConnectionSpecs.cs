using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Microsoft.Extensions.Time.Testing;
using Presence.Actors.Domain;
using Presence.Gateway.Connections;
using Presence.Gateway.Transport;
using Xunit;
using static Presence.Gateway.Tests.Wire.WireClient;

namespace Presence.Gateway.Tests.Transport;

/// <summary>The close deadline of a socket on in-memory pipes, on virtual time: a stalled close is dropped at it, a clean one leaves nothing behind.</summary>
public sealed class WebSocketConnectionSpecs : TestKit
{
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RunBound = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private readonly Pipe _fromClient = new();
    private int _aborts;

    private WebSocketConnection Connect(Pipe toClient)
    {
        var settings = GatewaySettings.Create(Config.Empty);
        var ticket = new Admission(settings.Limits).TryAdmit(IPAddress.Loopback, out _)!;
        var info = new PeerInfo(ConnectionId.New(), IPAddress.Loopback, null, "http://127.0.0.1");
        // As Kestrel's abort does, the read side ends with the socket.
        void Abort()
        {
            Interlocked.Increment(ref _aborts);
            _fromClient.Writer.Complete();
        }
        return new WebSocketConnection(info, _fromClient.Reader, new PipeWire(toClient.Writer), Abort, settings, ticket, _time);
    }

    [Fact]
    public async Task Should_drop_a_socket_whose_client_never_answers_the_close_at_the_deadline()
    {
        var connection = Connect(new Pipe());
        var probe = CreateTestProbe();
        var run = connection.RunAsync(probe.Ref);

        connection.Close(WebSocketCloseStatus.PolicyViolation, "unauthorized");
        _time.Advance(CloseGrace - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, Volatile.Read(ref _aborts));
        Assert.False(run.IsCompleted);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        await run.WaitAsync(RunBound);
        Assert.Equal(1, Volatile.Read(ref _aborts));
        probe.ExpectMsg<ConnectionActor.SocketClosed>();
    }

    [Fact]
    public async Task Should_drop_a_socket_whose_client_closed_but_stopped_reading_at_the_deadline()
    {
        // The client's bytes stay unread: the echo of its close cannot be flushed.
        var connection = Connect(new Pipe(new PipeOptions(pauseWriterThreshold: 1, resumeWriterThreshold: 1, useSynchronizationContext: false)));
        await _fromClient.Writer.WriteAsync(Frame(Opcode.Close, [0x03, 0xE8]));

        var run = connection.RunAsync(CreateTestProbe().Ref);
        _time.Advance(CloseGrace - TimeSpan.FromMilliseconds(1));
        Assert.False(run.IsCompleted);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        await run.WaitAsync(RunBound);
        Assert.Equal(1, Volatile.Read(ref _aborts));
    }

    [Fact]
    public async Task Should_leave_no_deadline_behind_a_close_that_ended_cleanly()
    {
        var toClient = new Pipe();
        var connection = Connect(toClient);
        var probe = CreateTestProbe();
        var run = connection.RunAsync(probe.Ref);

        connection.Close(WebSocketCloseStatus.NormalClosure, "bye");
        var sent = await toClient.Reader.ReadAsync();
        Assert.Equal((byte)(0x80 | (int)Opcode.Close), sent.Buffer.FirstSpan[0]);
        toClient.Reader.AdvanceTo(sent.Buffer.End);
        await _fromClient.Writer.WriteAsync(Frame(Opcode.Close, [0x03, 0xE8]));
        await run.WaitAsync(RunBound);
        probe.ExpectMsg<ConnectionActor.SocketClosed>();

        _time.Advance(CloseGrace * 2);
        Assert.Equal(0, Volatile.Read(ref _aborts));
    }
}
