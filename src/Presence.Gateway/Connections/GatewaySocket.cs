using System.Buffers;
using System.Net;
using System.Net.WebSockets;
using System.Threading.Channels;
using Akka.Actor;
using Presence.Actors.Domain;
using Presence.Gateway.Auth;
using Presence.Gateway.Protocol;

namespace Presence.Gateway.Connections;

/// <summary>
/// The socket side of one connection, outside the actor system: the read loop
/// parses each inbound message and tells the <see cref="ConnectionActor"/>; the
/// <see cref="Outbox"/> writes what the gateway sends. Neither blocks an actor.
/// </summary>
internal sealed class GatewaySocket
{
    /// <summary>How long a close handshake (or a stuck send before it) may take before the socket is dropped.</summary>
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(5);

    private readonly TaskCompletionSource<IActorRef> _actor = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Admission.Ticket _admission;
    /// <summary>One item per inbound frame the actor has not handled yet; full means the read loop waits.</summary>
    private readonly Channel<byte> _unhandledFrames;
    private readonly TaskCompletionSource _closing = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile int _maxMessageBytes;
    private volatile PresenceRequests? _answeredHere;
    private int _readsAwaitingManager;

    public GatewaySocket(ConnectionId id, IPAddress? remoteAddress, BrowserOrigin origin, GatewaySettings settings, Admission.Ticket admission)
    {
        _admission = admission;
        _unhandledFrames = Channel.CreateBounded<byte>(new BoundedChannelOptions(settings.Limits.MaxInboundQueue) { SingleWriter = true });
        Id = id;
        RemoteAddress = remoteAddress;
        Origin = origin;
        Outbox = new Outbox(settings.MaxBufferedBytes);
        _maxMessageBytes = settings.PreauthMaxPayload;
    }

    public ConnectionId Id { get; }
    public IPAddress? RemoteAddress { get; }

    /// <summary>Where the upgrade says its page comes from (browsers only send an Origin).</summary>
    public BrowserOrigin Origin { get; }

    public Outbox Outbox { get; }

    /// <summary>Called once by the supervisor when the connection's actor exists.</summary>
    public void Attach(IActorRef actor) => _actor.TrySetResult(actor);

    /// <summary>
    /// Called after hello-ok: the client may now send up to the <c>maxPayload</c> policy instead of the pre-auth cap,
    /// and the socket no longer counts against its address's unfinished handshakes.
    /// </summary>
    public void HandshakeCompleted(int maxPayload)
    {
        _maxMessageBytes = maxPayload;
        _admission.HandshakeEnded();
    }

    /// <summary>Called by the actor once it is ready for the read loop to answer these requests itself.</summary>
    public void AnswerOnReadLoop(PresenceRequests requests) => _answeredHere = requests;

    /// <summary>
    /// Reads the actor has asked the manager for and not answered yet: the actor bounds them per connection,
    /// and while any is open the read loop answers nothing itself.
    /// </summary>
    public int ReadsAwaitingManager => Volatile.Read(ref _readsAwaitingManager);

    /// <summary>Called by the actor around each read it had to ask the manager for.</summary>
    public void ReadStarted() => Interlocked.Increment(ref _readsAwaitingManager);

    public void ReadEnded() => Interlocked.Decrement(ref _readsAwaitingManager);

    /// <summary>Called by the actor for each inbound frame it has handled, letting the read loop take another.</summary>
    public void FrameHandled() => _unhandledFrames.Reader.TryRead(out _);

    /// <summary>Queues a frame; a reader too far behind to take it is closed as a slow consumer.</summary>
    public void Send(OutboundFrame frame)
    {
        if (!Outbox.TrySend(frame))
            Close(WebSocketCloseStatus.PolicyViolation, "slow consumer", discardQueued: true);
    }

    /// <summary>Queues a close after what is already queued (or instead of it); the socket is dropped if the close does not complete in time.</summary>
    public void Close(WebSocketCloseStatus status, string reason, bool discardQueued = false)
    {
        Outbox.Close(status, TruncateReason(reason), discardQueued);
        _closing.TrySetResult();
    }

    /// <summary>Runs both loops until the socket is closed, then tells the actor.</summary>
    public async Task RunAsync(WebSocket socket, CancellationToken aborted)
    {
        var actor = await _actor.Task.WaitAsync(aborted).ConfigureAwait(false);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        var writing = WriteLoopAsync(socket, stop.Token);
        var watchdog = DropIfCloseStallsAsync(socket, stop);
        try
        {
            await ReadLoopAsync(socket, actor, stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The peer vanished or the server is stopping: either way the connection is over.
        }
        finally
        {
            Outbox.Abandon();
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(writing, watchdog).ConfigureAwait(false);
            actor.Tell(ConnectionActor.SocketClosed.Instance);
        }
    }

    private async Task ReadLoopAsync(WebSocket socket, IActorRef actor, CancellationToken cancellationToken)
    {
        var message = new ArrayBufferWriter<byte>();
        var tooLarge = false;
        while (socket.State is WebSocketState.Open or WebSocketState.CloseSent)
        {
            // A zero-byte read parks an idle socket without holding a buffer.
            var peek = await socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
            if (peek.MessageType == WebSocketMessageType.Close)
                break;
            var chunk = message.GetMemory(4096);
            var result = await socket.ReceiveAsync(chunk, cancellationToken).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
                break;
            if (tooLarge)
                continue;
            message.Advance(result.Count);
            if (message.WrittenCount > _maxMessageBytes)
            {
                tooLarge = true;
                Close(WebSocketCloseStatus.MessageTooBig, "");
                continue;
            }
            if (!result.EndOfMessage)
                continue;
            var frame = FrameParser.Parse(message.WrittenSpan);
            message = new ArrayBufferWriter<byte>();
            if (TryAnswerHere(frame))
                continue;
            // A client that sends faster than its actor handles waits here, and TCP pushes back on it.
            await _unhandledFrames.Writer.WriteAsync(0, cancellationToken).ConfigureAwait(false);
            actor.Tell(frame);
        }
        if (socket.State == WebSocketState.CloseReceived)
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Answers a beacon or a presence read on this thread when the actor owes no answer to an earlier
    /// request and no close is under way, so an answer from here never overtakes one the actor still owes.
    /// The read loop takes the next
    /// frame only after this, so a client still cannot outrun the gateway.
    /// </summary>
    private bool TryAnswerHere(InboundFrame frame)
    {
        if (_answeredHere is not { } requests || frame is not RequestFrame request || _closing.Task.IsCompleted
            || _unhandledFrames.Reader.Count > 0 || ReadsAwaitingManager > 0)
        {
            return false;
        }
        if (requests.TryAnswer(request) is not { } answer)
            return false;
        Send(answer);
        return true;
    }

    private async Task WriteLoopAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        Outbox.Start(socket, cancellationToken);
        try
        {
            if (await Outbox.Finished.ConfigureAwait(false) is { } close
                && socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(close.Status, close.Reason, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The peer went away while we were closing; the read loop sees it too and ends the connection.
        }
    }

    private async Task DropIfCloseStallsAsync(WebSocket socket, CancellationTokenSource stop)
    {
        try
        {
            await _closing.Task.WaitAsync(stop.Token).ConfigureAwait(false);
            await Task.Delay(CloseGrace, stop.Token).ConfigureAwait(false);
            socket.Abort();
            // The read loop may be parked waiting for its actor (which may be gone); end it too.
            await stop.CancelAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The connection ended in time.
        }
    }

    /// <summary>A close reason is at most 120 UTF-8 bytes on this protocol (123 by RFC 6455), cut on a character boundary.</summary>
    internal static string TruncateReason(string reason)
    {
        const int MaxBytes = 120;
        if (System.Text.Encoding.UTF8.GetByteCount(reason) <= MaxBytes)
            return reason;
        var length = reason.Length;
        while (System.Text.Encoding.UTF8.GetByteCount(reason.AsSpan(0, length)) > MaxBytes)
            length--;
        if (length > 0 && char.IsHighSurrogate(reason[length - 1]))
            length--;
        return reason[..length];
    }
}
