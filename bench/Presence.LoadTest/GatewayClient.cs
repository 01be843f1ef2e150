using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Presence.LoadTest;

/// <summary>Who a load client says it is in its <c>connect</c>.</summary>
/// <param name="Scope">The one operator scope it asks for.</param>
/// <param name="Tracked">A tracked client (<c>test</c>/<c>ui</c>) becomes a presence row. The default is the
/// CLI's identity (<c>cli</c>/<c>cli</c>), the one mode this gateway leaves untracked by default
/// (<c>presence.untracked-modes</c>); the reference client's <c>gateway-client</c>/<c>backend</c>, untracked
/// in OpenClaw, is tracked here, so every such load client would add a row and a broadcast.</param>
internal sealed record Identity(string Scope, bool Tracked = false)
{
    public static readonly Identity Admin = new("operator.admin");
    public static readonly Identity Reader = new("operator.read");

    /// <summary>An admin that is also a presence row of its own, as a desktop app is (the soak's clients).</summary>
    public static readonly Identity Tracker = new("operator.admin", Tracked: true);
}

/// <summary>A response as the client saw it.</summary>
internal readonly record struct Reply(bool Ok, int Bytes, long ReceivedAt);

/// <summary>
/// One protocol client over a real <see cref="ClientWebSocket"/>: the handshake, requests
/// correlated by id, and a receive loop that reads only the head of each frame
/// (type, id, ok, event name) and hands presence events to a <see cref="ChangeProbe"/>.
/// </summary>
internal sealed class GatewayClient : IAsyncDisposable
{
    private static readonly byte[] RequestStart = "{\"type\":\"req\",\"id\":\""u8.ToArray();

    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<long, TaskCompletionSource<Reply>> _pending = new();
    private readonly TaskCompletionSource _challenge = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ArrayBufferWriter<byte> _frame = new(512);
    private readonly Utf8JsonWriter _writer;
    private Task _receiving = Task.CompletedTask;
    private long _nextId;
    private long _presenceEvents;
    private long _presenceBytes;

    private GatewayClient(int index, ChangeProbe? probe)
    {
        Index = index;
        Probe = probe;
        _writer = new Utf8JsonWriter(_frame, new JsonWriterOptions { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        // The server pings; the client only answers, as the reference client does.
        _socket.Options.KeepAliveInterval = TimeSpan.Zero;
        _socket.Options.HttpVersion = HttpVersion.Version11;
        _socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
    }

    /// <summary>Position among the clients of a scenario; a probe files this client's arrival time under it.</summary>
    public int Index { get; }

    public ChangeProbe? Probe { get; }

    /// <summary>The last trial this client saw the change of (so that one arrival is counted once).</summary>
    public int SeenTrial { get; set; } = -1;

    public long PresenceEvents => Interlocked.Read(ref _presenceEvents);

    public long PresenceBytes => Interlocked.Read(ref _presenceBytes);

    /// <summary>The first error a response carried, for diagnostics.</summary>
    public string? FirstError { get; private set; }

    public bool IsOpen => _socket.State == WebSocketState.Open;

    /// <summary>Opens the socket, waits for <c>connect.challenge</c>, and completes the handshake.</summary>
    /// <exception cref="LoadException">The handshake was refused.</exception>
    public static async Task<GatewayClient> ConnectAsync(ClientFactory factory, Identity identity, int index, ChangeProbe? probe, CancellationToken cancellationToken)
    {
        var client = new GatewayClient(index, probe);
        try
        {
            await client._socket.ConnectAsync(factory.Url, factory.Invoker, cancellationToken).ConfigureAwait(false);
            client._receiving = client.ReceiveLoopAsync();
            await client._challenge.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            var hello = await client.RequestAsync("connect", writer => Frames.WriteConnect(writer, identity, index), cancellationToken).ConfigureAwait(false);
            if (!hello.Ok)
                throw new LoadException($"connect refused: {client.FirstError}");
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Sends one request and waits for its response; fails if the socket closes first or <see cref="FailPending"/> is called.</summary>
    public async Task<Reply> RequestAsync(string method, Action<Utf8JsonWriter>? writeParams, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource<Reply>();
        _pending[id] = answer;
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _frame.ResetWrittenCount();
            _frame.Write(RequestStart);
            Utf8Formatter.TryFormat(id, _frame.GetSpan(20), out var digits);
            _frame.Advance(digits);
            _writer.Reset(_frame);
            // The writer continues the open object after the id string: "…","method":…,"params":…}
            _frame.Write("\",\"method\":\""u8);
            _frame.Write(Encoding.UTF8.GetBytes(method));
            _frame.Write("\""u8);
            if (writeParams is not null)
            {
                _frame.Write(",\"params\":"u8);
                writeParams(_writer);
                _writer.Flush();
            }
            _frame.Write("}"u8);
            await _socket.SendAsync(_frame.WrittenMemory, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _pending.TryRemove(id, out _);
            throw;
        }
        finally
        {
            _sendLock.Release();
        }
        return await answer.Task.ConfigureAwait(false);
    }

    /// <summary>Ends every request still waiting: the scenario's time is up.</summary>
    public void FailPending()
    {
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var waiting))
                waiting.TrySetException(new LoadException("no response before the scenario ended"));
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, grace.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The server is gone or slow to close; the socket is aborted below either way.
        }
        _socket.Abort();
        await _receiving.ConfigureAwait(false);
        _socket.Dispose();
        _writer.Dispose();
        _sendLock.Dispose();
        FailPending();
    }

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (await MessageReader.ReadAsync(_socket, CancellationToken.None).ConfigureAwait(false) is { } message)
            {
                try
                {
                    OnMessage(message.Buffer.AsSpan(0, message.Length));
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(message.Buffer);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The socket closed under the loop; pending requests fail below.
        }
        finally
        {
            _challenge.TrySetException(new LoadException("socket closed before connect.challenge"));
            FailPending();
        }
    }

    private void OnMessage(ReadOnlySpan<byte> message)
    {
        var receivedAt = Stopwatch.GetTimestamp();
        var head = FrameHead.Read(message);
        switch (head.Kind)
        {
            case FrameKind.Response:
                if (head.Error is not null)
                    FirstError ??= head.Error;
                if (_pending.TryRemove(head.Id, out var waiting))
                    waiting.TrySetResult(new Reply(head.Ok, message.Length, receivedAt));
                break;
            case FrameKind.Challenge:
                _challenge.TrySetResult();
                break;
            case FrameKind.Presence:
                Interlocked.Increment(ref _presenceEvents);
                Interlocked.Add(ref _presenceBytes, message.Length);
                Probe?.OnPresence(this, message, receivedAt);
                break;
        }
    }
}

internal enum FrameKind
{
    Other,
    Response,
    Challenge,
    Presence,
}

/// <summary>
/// The top-level fields of a server frame that the tool needs. It stops at
/// <c>payload</c> once the kind is known, so that a 60 KB presence list is never
/// tokenised: the gateway (like OpenClaw) writes type, id, ok and event first.
/// </summary>
internal readonly record struct FrameHead(FrameKind Kind, long Id, bool Ok, string? Error)
{
    public static FrameHead Read(ReadOnlySpan<byte> message)
    {
        var reader = new Utf8JsonReader(message);
        bool isResponse = false, isEvent = false, ok = false;
        long id = -1;
        string? error = null;
        var kind = FrameKind.Other;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            return default;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                isResponse = reader.ValueTextEquals("res"u8);
                isEvent = reader.ValueTextEquals("event"u8);
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String || !Utf8Parser.TryParse(reader.ValueSpan, out id, out var used) || used != reader.ValueSpan.Length)
                    id = -1;
            }
            else if (reader.ValueTextEquals("ok"u8))
            {
                reader.Read();
                ok = reader.TokenType == JsonTokenType.True;
            }
            else if (reader.ValueTextEquals("event"u8))
            {
                reader.Read();
                kind = reader.ValueTextEquals("presence"u8) ? FrameKind.Presence
                    : reader.ValueTextEquals("connect.challenge"u8) ? FrameKind.Challenge
                    : FrameKind.Other;
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                error = Encoding.UTF8.GetString(message[start..(int)reader.BytesConsumed]);
            }
            else
            {
                var isPayload = reader.ValueTextEquals("payload"u8);
                if (isPayload && ((isResponse && id >= 0) || (isEvent && kind != FrameKind.Other)))
                    break;
                reader.Read();
                reader.Skip();
            }
        }
        if (isResponse)
            return new FrameHead(FrameKind.Response, id, ok, error);
        return new FrameHead(isEvent ? kind : FrameKind.Other, -1, false, null);
    }
}

/// <summary>A failure the scenario reports (refused handshake, lost response), not a bug of the tool.</summary>
internal sealed class LoadException(string message) : Exception(message);
