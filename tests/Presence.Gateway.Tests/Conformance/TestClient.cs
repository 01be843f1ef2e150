using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Presence.Gateway.Tls;
using System.Threading.Channels;
using Xunit;
using Xunit.Sdk;

namespace Presence.Gateway.Tests.Conformance;

/// <summary>How the server ended a connection: its close status and reason, or none when the socket was dropped without a close frame.</summary>
internal readonly record struct ServerClose(WebSocketCloseStatus? Status, string? Reason)
{
    public int? Code => Status is { } status ? (int)status : null;

    public override string ToString() => Status is null ? "dropped without a close frame" : $"close {Code} \"{Reason}\"";
}

/// <summary>
/// A <see cref="ClientWebSocket"/> speaking the gateway protocol. A background pump reads every
/// message into a queue, so waits are bounded reads of that queue (a timeout never aborts the
/// socket), WebSocket pings are answered while the test is busy, and the server's close is
/// captured whenever it comes.
/// </summary>
internal sealed class TestClient : IAsyncDisposable
{
    /// <summary>The bound on every wait: long enough for a loaded 2-core machine, short enough to fail fast.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly ClientWebSocket _socket;
    private readonly Channel<JsonObject> _inbox = Channel.CreateUnbounded<JsonObject>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly TaskCompletionSource<ServerClose> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<JsonObject> _history = [];
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _reading = CompletedGate();
    private Task _pump = Task.CompletedTask;
    private int _nextId;

    private TestClient(ClientWebSocket socket) => _socket = socket;

    /// <summary>Every frame received so far, in arrival order (including those a wait skipped).</summary>
    public IReadOnlyList<JsonObject> History
    {
        get
        {
            lock (_history)
                return [.. _history];
        }
    }

    /// <summary>The connect.challenge, once a handshake helper has read it.</summary>
    public JsonObject? Challenge { get; private set; }

    /// <summary>
    /// Opens a socket to <paramref name="url"/>; a browser-like client passes the page's <paramref name="origin"/>,
    /// and a client that must appear as another host passes a loopback source address in <paramref name="from"/>.
    /// </summary>
    /// <param name="url">ws:// or wss://.</param>
    /// <param name="origin">The Origin a browser would send.</param>
    /// <param name="from">A loopback source address other than 127.0.0.1.</param>
    /// <param name="headers">Further upgrade headers, such as a proxy's X-Forwarded-For.</param>
    /// <param name="pinnedSha256">Over wss://: the one certificate to accept, by SHA-256 fingerprint.</param>
    public static async Task<TestClient> ConnectAsync(Uri url, string? origin = null, IPAddress? from = null, IReadOnlyDictionary<string, string>? headers = null, byte[]? pinnedSha256 = null)
    {
        var socket = new ClientWebSocket();
        if (origin is not null)
            socket.Options.SetRequestHeader("Origin", origin);
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
            socket.Options.SetRequestHeader(name, value);
        var pin = pinnedSha256 is null ? null : CertificateFingerprint.Pin(pinnedSha256);
        using var timeout = new CancellationTokenSource(DefaultTimeout);
        try
        {
            if (from is null)
            {
                socket.Options.RemoteCertificateValidationCallback = pin;
                await socket.ConnectAsync(url, timeout.Token);
            }
            else
            {
                var handler = BoundTo(from);
                handler.SslOptions.RemoteCertificateValidationCallback = pin;
                await socket.ConnectAsync(url, new HttpMessageInvoker(handler), timeout.Token);
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var client = new TestClient(socket);
        client._pump = Task.Run(client.PumpAsync);
        return client;
    }

    /// <summary>A handler whose sockets leave from <paramref name="local"/>, e.g. 127.0.0.2, so that the server sees another address.</summary>
    private static SocketsHttpHandler BoundTo(IPAddress local) => new()
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var tcp = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                tcp.Bind(new IPEndPoint(local, 0));
                await tcp.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(tcp, ownsSocket: true);
            }
            catch
            {
                tcp.Dispose();
                throw;
            }
        },
    };

    // ---- sending ------------------------------------------------------------------------

    public Task SendTextAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);

    public Task SendBinaryAsync(string json) => SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Binary);

    public Task SendAsync(JsonNode frame, bool binary = false) =>
        SendAsync(Encoding.UTF8.GetBytes(frame.ToJsonString()), binary ? WebSocketMessageType.Binary : WebSocketMessageType.Text);

    public async Task SendAsync(ReadOnlyMemory<byte> bytes, WebSocketMessageType type)
    {
        using var timeout = new CancellationTokenSource(DefaultTimeout);
        await _socket.SendAsync(bytes, type, endOfMessage: true, timeout.Token);
    }

    /// <summary>Sends a request frame; <paramref name="parameters"/> null leaves <c>params</c> out, as the CLI does for <c>health</c>.</summary>
    public async Task<string> SendRequestAsync(string method, JsonNode? parameters = null, string? id = null)
    {
        id ??= NextId();
        var frame = new JsonObject { ["type"] = "req", ["id"] = id, ["method"] = method };
        if (parameters is not null)
            frame["params"] = parameters;
        await SendAsync(frame);
        return id;
    }

    /// <summary>Ids in the reference client's <c>&lt;n&gt;:&lt;uuid&gt;</c> form.</summary>
    public string NextId() => $"{Interlocked.Increment(ref _nextId)}:{Guid.NewGuid()}";

    // ---- receiving ----------------------------------------------------------------------

    /// <summary>The next frame; fails if none comes within the timeout or the server closes first.</summary>
    public async Task<JsonObject> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            if (await _inbox.Reader.WaitToReadAsync(cts.Token) && _inbox.Reader.TryRead(out var frame))
                return frame;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new XunitException($"No frame within {(timeout ?? DefaultTimeout).TotalSeconds:0.#} s. Received so far: {Describe(History)}");
        }
        var close = await _closed.Task;
        throw new XunitException($"The server ended the connection ({close}) before the expected frame. Received: {Describe(History)}");
    }

    /// <summary>Skips frames until one matches; the skipped ones stay in <see cref="History"/>.</summary>
    public async Task<JsonObject> ReceiveUntilAsync(Func<JsonObject, bool> predicate, TimeSpan? timeout = null, string? what = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
                throw new XunitException($"No {what ?? "matching frame"} within {(timeout ?? DefaultTimeout).TotalSeconds:0.#} s. Received: {Describe(History)}");
            JsonObject frame;
            try
            {
                frame = await ReceiveAsync(left);
            }
            catch (XunitException ex)
            {
                throw new XunitException($"Waiting for {what ?? "a matching frame"}: {ex.Message}");
            }
            if (predicate(frame))
                return frame;
        }
    }

    /// <summary>The next event named <paramref name="name"/> (that also satisfies <paramref name="predicate"/>).</summary>
    public Task<JsonObject> ReceiveEventAsync(string name, Func<JsonObject, bool>? predicate = null, TimeSpan? timeout = null) =>
        ReceiveUntilAsync(f => Frames.IsEvent(f, name) && (predicate?.Invoke(f) ?? true), timeout, $"'{name}' event");

    /// <summary>The next <c>presence</c> event whose list satisfies <paramref name="predicate"/>; returns the whole event frame.</summary>
    public Task<JsonObject> ReceivePresenceAsync(Func<JsonArray, bool>? predicate = null, TimeSpan? timeout = null) =>
        ReceiveUntilAsync(f => Frames.IsEvent(f, "presence") && (predicate?.Invoke(Frames.PresenceList(f)) ?? true), timeout, "matching 'presence' event");

    /// <summary>
    /// Proves that no frame (matching <paramref name="predicate"/>) arrives within a short window.
    /// This is the one place the suite waits on the clock: absence can only be shown over time.
    /// </summary>
    public async Task ExpectNoFrameAsync(TimeSpan window, Func<JsonObject, bool>? predicate = null)
    {
        using var cts = new CancellationTokenSource(window);
        try
        {
            while (await _inbox.Reader.WaitToReadAsync(cts.Token))
            {
                if (_inbox.Reader.TryRead(out var frame) && (predicate?.Invoke(frame) ?? true))
                    throw new XunitException($"Expected no frame within {window.TotalMilliseconds} ms, got {frame.ToJsonString()}");
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            // The window passed quietly.
        }
    }

    /// <summary>The server's close (status and reason); fails if the socket stays open past the timeout.</summary>
    public async Task<ServerClose> WaitForCloseAsync(TimeSpan? timeout = null)
    {
        try
        {
            return await _closed.Task.WaitAsync(timeout ?? DefaultTimeout);
        }
        catch (TimeoutException)
        {
            throw new XunitException($"The server did not close within {(timeout ?? DefaultTimeout).TotalSeconds:0.#} s. Received: {Describe(History)}");
        }
    }

    /// <summary>True once the server closed or dropped the socket.</summary>
    public bool IsClosed => _closed.Task.IsCompleted;

    /// <summary>Stops reading (frames pile up server-side, as with a stalled reader) until <see cref="ResumeReading"/>.</summary>
    public void PauseReading() => Interlocked.Exchange(ref _reading, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public void ResumeReading() => Volatile.Read(ref _reading).TrySetResult();

    // ---- protocol helpers ---------------------------------------------------------------

    /// <summary>Reads the connect.challenge that every connection opens with.</summary>
    public async Task<JsonObject> ReceiveChallengeAsync()
    {
        var frame = await ReceiveAsync();
        Assert.True(Frames.IsEvent(frame, "connect.challenge"), $"Expected connect.challenge first, got {frame.ToJsonString()}");
        Challenge = frame;
        return frame;
    }

    /// <summary>Reads the challenge (if not read yet), sends <c>connect</c> and returns its response frame, success or not.</summary>
    public async Task<JsonObject> SendConnectAsync(JsonObject? parameters = null, string? id = null, bool binary = false)
    {
        if (Challenge is null)
            await ReceiveChallengeAsync();
        id ??= NextId();
        await SendAsync(new JsonObject { ["type"] = "req", ["id"] = id, ["method"] = "connect", ["params"] = parameters ?? Connects.Backend() }, binary);
        return await ReceiveResponseAsync(id);
    }

    /// <summary>A successful handshake; returns the hello-ok payload.</summary>
    public async Task<JsonObject> HandshakeAsync(JsonObject? parameters = null)
    {
        var response = await SendConnectAsync(parameters);
        Assert.True(response["ok"]?.GetValue<bool>() == true, $"connect failed: {response.ToJsonString()}");
        var hello = Assert.IsType<JsonObject>(response["payload"]);
        Assert.Equal("hello-ok", (string?)hello["type"]);
        return hello;
    }

    /// <summary>Sends a request and returns the <c>res</c> with its id, skipping the events in between.</summary>
    public async Task<JsonObject> CallAsync(string method, JsonNode? parameters = null)
    {
        var id = await SendRequestAsync(method, parameters);
        return await ReceiveResponseAsync(id);
    }

    /// <summary>A call that must succeed; returns its payload.</summary>
    public async Task<JsonNode?> CallOkAsync(string method, JsonNode? parameters = null)
    {
        var response = await CallAsync(method, parameters);
        Assert.True(response["ok"]?.GetValue<bool>() == true, $"{method} failed: {response.ToJsonString()}");
        return response["payload"];
    }

    /// <summary>The current list from <c>system-presence</c>.</summary>
    public async Task<JsonArray> SystemPresenceAsync() => Assert.IsType<JsonArray>(await CallOkAsync("system-presence", new JsonObject()));

    /// <summary>A <c>system-event</c> beacon that must be accepted with <c>{ok:true}</c>.</summary>
    public async Task BeaconAsync(JsonObject parameters)
    {
        var payload = await CallOkAsync("system-event", parameters);
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["ok"] = true }, payload), $"system-event payload: {payload?.ToJsonString()}");
    }

    public Task<JsonObject> ReceiveResponseAsync(string id) =>
        ReceiveUntilAsync(f => (string?)f["type"] == "res" && f["id"] is JsonValue v && v.TryGetValue<string>(out var s) && s == id, what: $"response to '{id}'");

    /// <summary>A normal client-initiated close (the reference client's way of leaving).</summary>
    public async Task CloseAsync()
    {
        if (_socket.State != WebSocketState.Open)
            return;
        using var timeout = new CancellationTokenSource(DefaultTimeout);
        try
        {
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token);
        }
        catch (WebSocketException)
        {
            // Already going away.
        }
        await WaitForCloseAsync();
    }

    public async ValueTask DisposeAsync()
    {
        ResumeReading();
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                await CloseAsync();
            }
            catch (XunitException)
            {
                // The server did not finish the close handshake; the abort below ends it.
            }
        }
        await _stop.CancelAsync();
        _socket.Abort();
        await _pump;
        _socket.Dispose();
        _stop.Dispose();
    }

    private async Task PumpAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (true)
            {
                await Volatile.Read(ref _reading).Task.WaitAsync(_stop.Token);
                var result = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    _closed.TrySetResult(new ServerClose(result.CloseStatus, result.CloseStatusDescription));
                    if (_socket.State == WebSocketState.CloseReceived)
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", _stop.Token);
                    return;
                }
                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                    continue;
                var text = Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
                message.SetLength(0);
                var frame = JsonNode.Parse(text) as JsonObject ?? throw new InvalidDataException($"Server sent a non-object frame: {text}");
                lock (_history)
                    _history.Add(frame);
                _inbox.Writer.TryWrite(frame);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or InvalidDataException or System.Text.Json.JsonException or ObjectDisposedException)
        {
            // Dropped without a close frame (or the test is done); a waiting test sees it as "no close".
            _closed.TrySetResult(new ServerClose(null, ex is InvalidDataException or System.Text.Json.JsonException ? ex.Message : null));
        }
        finally
        {
            _inbox.Writer.TryComplete();
        }
    }

    private static TaskCompletionSource CompletedGate()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }

    private static string Describe(IReadOnlyList<JsonObject> frames) =>
        frames.Count == 0 ? "(nothing)" : string.Join(" | ", frames.TakeLast(8).Select(f => Truncate(f.ToJsonString(), 400)));

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + "…";
}
