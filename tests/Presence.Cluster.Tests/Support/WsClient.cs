using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Presence.Cluster.Tests.Support;

/// <summary>
/// A minimal OpenClaw operator client over <see cref="ClientWebSocket"/>: completes the handshake,
/// sends requests, and keeps every <c>presence</c> event with the time it arrived.
/// </summary>
internal sealed class WsClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly Channel<JsonObject> _responses = Channel.CreateUnbounded<JsonObject>();
    private readonly Channel<(DateTime At, JsonArray Presence)> _presence = Channel.CreateUnbounded<(DateTime, JsonArray)>();
    private readonly CancellationTokenSource _stop = new();
    private Task _pump = Task.CompletedTask;
    private int _nextId;

    public ChannelReader<(DateTime At, JsonArray Presence)> PresenceEvents => _presence.Reader;

    /// <summary>Completes when the socket closed or broke.</summary>
    public Task Closed => _pump;

    /// <summary>The gateway's close code, once it closed the socket with a close frame.</summary>
    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    /// <summary>The gateway announced a graceful stop (the <c>shutdown</c> event) before closing.</summary>
    public bool HeardShutdown { get; private set; }

    /// <summary>False once the gateway closed the socket (a close frame) or it broke.</summary>
    public bool IsOpen => _socket.State == WebSocketState.Open && !_pump.IsCompleted;

    /// <summary>Connects as an operator with <c>operator.admin</c>; <paramref name="instanceId"/> makes it a tracked row.</summary>
    public static async Task<WsClient> ConnectAsync(string url, string instanceId, CancellationToken cancellationToken)
    {
        var client = new WsClient();
        await client._socket.ConnectAsync(new Uri(url), cancellationToken);
        client._pump = Task.Run(client.PumpAsync, CancellationToken.None);
        var hello = await client.RequestAsync("connect", new JsonObject
        {
            ["minProtocol"] = 4,
            ["maxProtocol"] = 4,
            ["client"] = new JsonObject { ["id"] = "test", ["version"] = "1.0.0", ["platform"] = "linux", ["mode"] = "ui", ["instanceId"] = instanceId },
            ["caps"] = new JsonArray(),
            ["role"] = "operator",
            ["scopes"] = new JsonArray("operator.admin"),
            ["auth"] = new JsonObject(),
        }, cancellationToken);
        if (hello["ok"]?.GetValue<bool>() != true)
            throw new InvalidOperationException($"connect refused: {hello.ToJsonString()}");
        return client;
    }

    public async Task<JsonArray> SystemPresenceAsync(CancellationToken cancellationToken)
    {
        var response = await RequestAsync("system-presence", null, cancellationToken);
        return response["payload"]!.AsArray();
    }

    /// <summary>Sends a beacon for the row of <paramref name="instanceId"/>; the reply comes before the change spreads.</summary>
    public Task<JsonObject> SystemEventAsync(string text, string instanceId, CancellationToken cancellationToken) =>
        RequestAsync("system-event", new JsonObject { ["text"] = text, ["instanceId"] = instanceId }, cancellationToken);

    public async Task<JsonObject> RequestAsync(string method, JsonObject? parameters, CancellationToken cancellationToken)
    {
        var id = $"r{Interlocked.Increment(ref _nextId)}";
        var frame = new JsonObject { ["type"] = "req", ["id"] = id, ["method"] = method };
        if (parameters is not null)
            frame["params"] = parameters;
        await _socket.SendAsync(Encoding.UTF8.GetBytes(frame.ToJsonString()), WebSocketMessageType.Text, true, cancellationToken);
        // Requests go one at a time, so the next response is this one's.
        var response = await _responses.Reader.ReadAsync(cancellationToken);
        return (string?)response["id"] == id ? response : throw new InvalidOperationException($"expected the response to {id}, got {response.ToJsonString()}");
    }

    private async Task PumpAsync()
    {
        var buffer = new byte[1 << 20];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == buffer.Length)
                        Array.Resize(ref buffer, buffer.Length * 2);
                    result = await _socket.ReceiveAsync(buffer.AsMemory(length), _stop.Token);
                    length += result.Count;
                }
                while (!result.EndOfMessage);
                if (result.MessageType == WebSocketMessageType.Close)
                    break;
                var frame = JsonNode.Parse(buffer.AsSpan(0, length))!.AsObject();
                var at = DateTime.UtcNow;
                switch ((string?)frame["type"], (string?)frame["event"])
                {
                    case ("res", _):
                        _responses.Writer.TryWrite(frame);
                        break;
                    case ("event", "presence"):
                        _presence.Writer.TryWrite((at, frame["payload"]!["presence"]!.AsArray()));
                        break;
                    case ("event", "shutdown"):
                        HeardShutdown = true;
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The gateway went away (killed in a spec) or the client stops.
        }
        finally
        {
            _responses.Writer.TryComplete();
            _presence.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _pump;
        _socket.Dispose();
        _stop.Dispose();
    }
}
