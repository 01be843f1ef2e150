using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Presence.LoadTest;

/// <summary>
/// The least server that passes the load tool's scenarios: it answers every request
/// at once, keeps beacon rows as the raw params it received, and serialises each
/// presence list once for all readers, coalesced like the gateway (at most one list
/// per 100 ms, an isolated change at once). Run against it, the tool shows its own
/// ceiling on this machine: what it measures of the gateway cannot exceed this.
/// </summary>
internal static class StubServer
{
    public static async Task<int> RunAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var hub = new StubHub();
        app.UseWebSockets();
        app.Map("/", async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 400;
                return;
            }
            using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
            await new StubConnection(socket, hub).RunAsync().ConfigureAwait(false);
        });
        app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine($"Stub server listening on ws://127.0.0.1:{port}"));
        await app.RunAsync().ConfigureAwait(false);
        return 0;
    }
}

internal sealed class StubHub
{
    private static readonly TimeSpan BroadcastInterval = TimeSpan.FromMilliseconds(100);
    private static readonly byte[] SelfRow = Encoding.UTF8.GetBytes("{\"host\":\"stub\",\"mode\":\"gateway\",\"reason\":\"self\",\"text\":\"Gateway: stub · mode gateway · reason self\",\"ts\":0}");

    private readonly Lock _lock = new();
    private readonly Dictionary<string, byte[]> _rows = [];
    private readonly ConcurrentDictionary<StubConnection, byte> _readers = new();
    private byte[]? _list;
    private long _lastAnnounce;
    private bool _flushScheduled;

    public void AddReader(StubConnection connection) => _readers[connection] = 0;

    public void RemoveReader(StubConnection connection) => _readers.TryRemove(connection, out _);

    public byte[] List()
    {
        lock (_lock)
            return _list ??= Join();
    }

    public void Upsert(string key, byte[] row)
    {
        lock (_lock)
        {
            if (!_rows.ContainsKey(key) && _rows.Count >= 199)
                _rows.Remove(_rows.Keys.First());
            _rows[key] = row;
            _list = null;
            if (_flushScheduled)
                return;
            var since = Stopwatch.GetElapsedTime(_lastAnnounce);
            if (_lastAnnounce == 0 || since >= BroadcastInterval)
            {
                AnnounceLocked();
                return;
            }
            _flushScheduled = true;
            _ = FlushLaterAsync(BroadcastInterval - since);
        }
    }

    private async Task FlushLaterAsync(TimeSpan delay)
    {
        await Task.Delay(delay).ConfigureAwait(false);
        lock (_lock)
        {
            _flushScheduled = false;
            AnnounceLocked();
        }
    }

    private void AnnounceLocked()
    {
        _lastAnnounce = Stopwatch.GetTimestamp();
        _list ??= Join();
        var frame = Concat("{\"type\":\"event\",\"event\":\"presence\",\"payload\":{\"presence\":"u8, _list, "}}"u8);
        foreach (var reader in _readers.Keys)
            reader.Send(frame);
    }

    private byte[] Join()
    {
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        buffer.Write("["u8);
        buffer.Write(SelfRow);
        foreach (var row in _rows.Values)
        {
            buffer.Write(","u8);
            buffer.Write(row);
        }
        buffer.Write("]"u8);
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Concat(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c)
    {
        var bytes = new byte[a.Length + b.Length + c.Length];
        a.CopyTo(bytes);
        b.CopyTo(bytes.AsSpan(a.Length));
        c.CopyTo(bytes.AsSpan(a.Length + b.Length));
        return bytes;
    }
}

internal sealed class StubConnection(WebSocket socket, StubHub hub)
{
    private static readonly byte[] Challenge = "{\"type\":\"event\",\"event\":\"connect.challenge\",\"payload\":{\"nonce\":\"stub\",\"ts\":0}}"u8.ToArray();
    private static readonly byte[] Hello = Encoding.UTF8.GetBytes(
        "{\"type\":\"hello-ok\",\"protocol\":4,\"server\":{\"version\":\"stub\",\"connId\":\"stub\"},\"features\":{\"methods\":[],\"events\":[]},"
        + "\"snapshot\":{\"presence\":[],\"health\":{},\"stateVersion\":{\"presence\":1,\"health\":1},\"uptimeMs\":0},"
        + "\"auth\":{\"role\":\"operator\",\"scopes\":[]},\"policy\":{\"maxPayload\":26214400,\"maxBufferedBytes\":52428800,\"tickIntervalMs\":30000}}");
    private static readonly byte[] BeaconAccepted = "{\"ok\":true}"u8.ToArray();

    private readonly Channel<byte[]> _outbox = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });

    public void Send(byte[] frame) => _outbox.Writer.TryWrite(frame);

    public async Task RunAsync()
    {
        Send(Challenge);
        var writing = WriteLoopAsync();
        try
        {
            while (await MessageReader.ReadAsync(socket, CancellationToken.None).ConfigureAwait(false) is { } message)
            {
                try
                {
                    OnRequest(message.Buffer.AsSpan(0, message.Length));
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(message.Buffer);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
        {
            // The client went away.
        }
        finally
        {
            hub.RemoveReader(this);
            _outbox.Writer.TryComplete();
            await writing.ConfigureAwait(false);
        }
    }

    private void OnRequest(ReadOnlySpan<byte> message)
    {
        var reader = new Utf8JsonReader(message);
        string? id = null, method = null;
        ReadOnlySpan<byte> parameters = default;
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "id":
                    id = reader.GetString();
                    break;
                case "method":
                    method = reader.GetString();
                    break;
                case "params":
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    parameters = message[start..(int)reader.BytesConsumed];
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        if (id is null)
            return;
        switch (method)
        {
            case "connect":
                Respond(id, Hello);
                hub.AddReader(this);
                break;
            case "system-presence":
                Respond(id, hub.List());
                break;
            case "system-event":
                // The row is the beacon's params plus ts: the same fields and size as the gateway's row.
                var row = StubHub.Concat(parameters[..^1], Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $",\"ts\":{Environment.TickCount64}")), "}"u8);
                Respond(id, BeaconAccepted);
                hub.Upsert(InstanceId(parameters) ?? "anonymous", row);
                break;
            default:
                Respond(id, "{}"u8.ToArray());
                break;
        }
    }

    private static string? InstanceId(ReadOnlySpan<byte> parameters)
    {
        var reader = new Utf8JsonReader(parameters);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isInstance = reader.ValueTextEquals("instanceId"u8);
            reader.Read();
            if (isInstance)
                return reader.GetString();
            reader.Skip();
        }
        return null;
    }

    private void Respond(string id, byte[] payload) =>
        Send(StubHub.Concat(Encoding.UTF8.GetBytes($"{{\"type\":\"res\",\"id\":\"{id}\",\"ok\":true,\"payload\":"), payload, "}"u8));

    private async Task WriteLoopAsync()
    {
        try
        {
            await foreach (var frame in _outbox.Reader.ReadAllAsync().ConfigureAwait(false))
                await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
        {
            // The client went away; the read loop ends too.
        }
    }
}
