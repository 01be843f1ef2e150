using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Presence.Gateway.Tests.Conformance;
using Presence.Gateway.Transport;
using Xunit;
using Xunit.Sdk;

namespace Presence.Gateway.Tests.Wire;

/// <summary>One frame as it crossed the wire, header bits included, so that a spec can check what a library client would hide.</summary>
internal sealed record WireFrame(bool Fin, int Reserved, Opcode Opcode, bool Masked, byte[] Payload)
{
    public string Text => Encoding.UTF8.GetString(Payload);

    public JsonObject Json => Assert.IsType<JsonObject>(JsonNode.Parse(Payload));

    /// <summary>The code of a close frame, or null when its payload is empty.</summary>
    public int? CloseCode => Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Payload) : null;

    public override string ToString() => Opcode switch
    {
        Opcode.Close => $"close {CloseCode} \"{Encoding.UTF8.GetString(Payload.AsSpan(Math.Min(2, Payload.Length)))}\"",
        Opcode.Text => $"text {(Text.Length > 200 ? Text[..200] + "…" : Text)}",
        _ => $"{Opcode} ({Payload.Length} bytes)",
    };
}

/// <summary>An HTTP response head (and body, when it has a Content-Length) read from the raw socket.</summary>
internal sealed record HttpAnswer(int Status, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// A TCP client that speaks RFC 6455 by hand: every byte it sends is written here (masked or not,
/// any flags, split anywhere), and every frame it receives is read with its header bits, so that
/// the gateway's own framing can be checked where a WebSocket library would refuse or repair.
/// </summary>
internal sealed class WireClient : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TestClient.DefaultTimeout;

    private readonly Socket _socket;
    private readonly byte[] _received = new byte[64 * 1024];
    private int _start;
    private int _end;

    private WireClient(Socket socket) => _socket = socket;

    /// <summary>Opens a TCP connection to the gateway, with Nagle off so that each write is its own segment.</summary>
    public static async Task<WireClient> OpenAsync(TestGateway gateway)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var timeout = new CancellationTokenSource(Timeout);
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, gateway.Url.Port), timeout.Token);
            return new WireClient(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Opens a connection and completes the opening handshake (with <paramref name="origin"/>, if given); checks the 101.</summary>
    public static async Task<WireClient> UpgradeAsync(TestGateway gateway, string? origin = null)
    {
        var client = await OpenAsync(gateway);
        try
        {
            var key = NewKey();
            var answer = await client.RequestAsync(UpgradeHead(gateway, key, origin is null ? "" : $"Origin: {origin}\r\n"));
            Assert.Equal(101, answer.Status);
            Assert.Equal(WebSocketHandshake.AcceptKey(key), answer.Header("sec-websocket-accept"));
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>A 16-byte nonce in base64, as §4.1 asks of a client.</summary>
    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));

    /// <summary>A well-formed upgrade request head; <paramref name="extraHeaders"/> (each ending in CRLF) are added before the blank line.</summary>
    public static string UpgradeHead(TestGateway gateway, string key, string extraHeaders = "") =>
        $"GET / HTTP/1.1\r\nHost: {gateway.Url.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extraHeaders}\r\n";

    /// <summary>
    /// A client frame: FIN and the reserved bits as given, the length in the shortest form, and masked
    /// with <paramref name="mask"/> unless <paramref name="masked"/> is false.
    /// </summary>
    public static byte[] Frame(Opcode opcode, ReadOnlySpan<byte> payload, bool fin = true, bool masked = true, int reserved = 0, uint mask = 0x37FA213D)
    {
        var header = new byte[14];
        header[0] = (byte)((fin ? 0x80 : 0) | (reserved << 4) | (int)opcode);
        var at = 2;
        if (payload.Length <= 125)
        {
            header[1] = (byte)payload.Length;
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            header[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), (ushort)payload.Length);
            at = 4;
        }
        else
        {
            header[1] = 127;
            BinaryPrimitives.WriteUInt64BigEndian(header.AsSpan(2), (ulong)payload.Length);
            at = 10;
        }
        var body = payload.ToArray();
        if (masked)
        {
            header[1] |= 0x80;
            BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(at), mask);
            at += 4;
            for (var i = 0; i < body.Length; i++)
                body[i] ^= (byte)(mask >> (24 - (i & 3) * 8));
        }
        return [.. header.AsSpan(0, at), .. body];
    }

    public static byte[] TextFrame(string text, bool fin = true, Opcode opcode = Opcode.Text) => Frame(opcode, Encoding.UTF8.GetBytes(text), fin);

    /// <summary>A close frame's payload: the code, then the reason in UTF-8.</summary>
    public static byte[] ClosePayload(int code, string reason = "")
    {
        var payload = new byte[2 + Encoding.UTF8.GetByteCount(reason)];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
        Encoding.UTF8.GetBytes(reason, payload.AsSpan(2));
        return payload;
    }

    public async Task SendAsync(params byte[][] pieces)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        foreach (var piece in pieces)
            await _socket.SendAsync(piece, SocketFlags.None, timeout.Token);
    }

    public Task SendAsync(string ascii) => SendAsync(Encoding.ASCII.GetBytes(ascii));

    public Task SendTextAsync(string text) => SendAsync(TextFrame(text));

    /// <summary>Sends a request head and reads the answer's head, and its body when it has a Content-Length.</summary>
    public async Task<HttpAnswer> RequestAsync(string head)
    {
        await SendAsync(head);
        return await ReadHttpAnswerAsync();
    }

    public async Task<HttpAnswer> ReadHttpAnswerAsync()
    {
        int headEnd;
        while ((headEnd = _received.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8)) < 0)
            await FillAsync("an HTTP answer");
        var lines = Encoding.ASCII.GetString(_received, _start, headEnd).Split("\r\n");
        _start += headEnd + 4;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        var body = "";
        if (headers.TryGetValue("content-length", out var length))
            body = Encoding.UTF8.GetString(await ReadExactlyAsync(int.Parse(length, CultureInfo.InvariantCulture), "an HTTP body"));
        else if (headers.TryGetValue("transfer-encoding", out var encoding) && encoding.Equals("chunked", StringComparison.OrdinalIgnoreCase))
            body = await ReadChunkedAsync();
        return new HttpAnswer(int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture), headers, body);
    }

    /// <summary>A chunked body (RFC 9112 §7.1), without extensions or trailers, as Kestrel writes it.</summary>
    private async Task<string> ReadChunkedAsync()
    {
        var body = new List<byte>();
        while (true)
        {
            var size = int.Parse(await ReadLineAsync(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            body.AddRange(await ReadExactlyAsync(size, "a chunk"));
            Assert.Equal("", await ReadLineAsync());
            if (size == 0)
                return Encoding.UTF8.GetString([.. body]);
        }
    }

    private async Task<string> ReadLineAsync()
    {
        int lineEnd;
        while ((lineEnd = _received.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0)
            await FillAsync("a line");
        var line = Encoding.ASCII.GetString(_received, _start, lineEnd);
        _start += lineEnd + 2;
        return line;
    }

    /// <summary>The next frame the server sends, whatever it is.</summary>
    public async Task<WireFrame> ReceiveFrameAsync()
    {
        var head = await ReadExactlyAsync(2, "a frame header");
        var masked = (head[1] & 0x80) != 0;
        long length = head[1] & 0x7F;
        if (length == 126)
            length = BinaryPrimitives.ReadUInt16BigEndian(await ReadExactlyAsync(2, "a 16-bit length"));
        else if (length == 127)
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(await ReadExactlyAsync(8, "a 64-bit length"));
        var mask = masked ? await ReadExactlyAsync(4, "a masking key") : null;
        var payload = await ReadExactlyAsync(checked((int)length), "a frame payload");
        if (mask is not null)
        {
            for (var i = 0; i < payload.Length; i++)
                payload[i] ^= mask[i & 3];
        }
        return new WireFrame((head[0] & 0x80) != 0, (head[0] >> 4) & 0x7, (Opcode)(head[0] & 0x0F), masked, payload);
    }

    /// <summary>The next text frame, parsed; every server frame must be a whole, unmasked text frame.</summary>
    public async Task<JsonObject> ReceiveJsonAsync()
    {
        var frame = await ReceiveFrameAsync();
        AssertServerText(frame);
        return frame.Json;
    }

    /// <summary>Skips text frames (the challenge, ticks, presence) until a response to <paramref name="id"/>.</summary>
    public async Task<JsonObject> ReceiveResponseAsync(string id)
    {
        while (true)
        {
            var json = await ReceiveJsonAsync();
            if ((string?)json["type"] == "res" && (string?)json["id"] == id)
                return json;
        }
    }

    /// <summary>
    /// Reads frames up to the server's close, which must carry <paramref name="code"/>; data frames
    /// before it are skipped, a ping is not expected. Returns the close frame.
    /// </summary>
    public async Task<WireFrame> ReceiveCloseAsync(int code)
    {
        var skipped = new List<WireFrame>();
        while (true)
        {
            var frame = await ReceiveFrameAsync();
            if (frame.Opcode != Opcode.Close)
            {
                skipped.Add(frame);
                continue;
            }
            Assert.True(frame.CloseCode == code, $"expected close {code}, got {frame}; before it: {string.Join(", ", skipped)}");
            Assert.False(frame.Masked, "a server frame was masked");
            Assert.True(frame.Fin && frame.Reserved == 0);
            return frame;
        }
    }

    /// <summary>
    /// Expects the server's close with <paramref name="code"/>, answers it as §5.5.1 asks (a close
    /// echoed, then the sending side shut), and then the server must end the TCP connection.
    /// </summary>
    public async Task ExpectClosedAsync(int code)
    {
        await ReceiveCloseAsync(code);
        try
        {
            await SendAsync(Frame(Opcode.Close, ClosePayload(code)));
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // The server may already have dropped the connection after its close: that is what is checked next.
        }
        await ExpectEndAsync();
    }

    /// <summary>The server ends the TCP connection without sending anything more, within the timeout.</summary>
    public async Task ExpectEndAsync()
    {
        var extra = await ReceiveUntilEndAsync();
        Assert.True(extra.Count == 0, $"frames after the close: {string.Join(", ", extra)}");
    }

    /// <summary>Every frame up to the end of the TCP connection (a read of no bytes, or a reset), which must come within the timeout.</summary>
    public async Task<IReadOnlyList<WireFrame>> ReceiveUntilEndAsync()
    {
        var frames = new List<WireFrame>();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            while (true)
            {
                if (_end > _start)
                {
                    frames.Add(await ReceiveFrameAsync());
                    continue;
                }
                _start = _end = 0;
                var read = await _socket.ReceiveAsync(_received, SocketFlags.None, timeout.Token);
                if (read == 0)
                    return frames;
                _end = read;
            }
        }
        catch (SocketException)
        {
            // Reset: ended too.
            return frames;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new XunitException($"The server did not end the TCP connection within {Timeout.TotalSeconds:0} s; received {string.Join(", ", frames)}");
        }
    }

    public static void AssertServerText(WireFrame frame)
    {
        Assert.True(frame.Opcode == Opcode.Text, $"expected a text frame, got {frame}");
        Assert.True(frame.Fin, "a server message was fragmented");
        Assert.Equal(0, frame.Reserved);
        Assert.False(frame.Masked, "a server frame was masked");
    }

    private async Task<byte[]> ReadExactlyAsync(int count, string what)
    {
        var bytes = new byte[count];
        var copied = 0;
        while (copied < count)
        {
            if (_end == _start)
                await FillAsync(what);
            var take = Math.Min(count - copied, _end - _start);
            _received.AsSpan(_start, take).CopyTo(bytes.AsSpan(copied));
            _start += take;
            copied += take;
        }
        return bytes;
    }

    private async Task FillAsync(string what)
    {
        if (_start == _end)
            _start = _end = 0;
        else if (_end == _received.Length)
        {
            _received.AsSpan(_start, _end - _start).CopyTo(_received);
            _end -= _start;
            _start = 0;
        }
        using var timeout = new CancellationTokenSource(Timeout);
        int read;
        try
        {
            read = await _socket.ReceiveAsync(_received.AsMemory(_end), SocketFlags.None, timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new XunitException($"Nothing more within {Timeout.TotalSeconds:0} s while waiting for {what}");
        }
        if (read == 0)
            throw new XunitException($"The server ended the connection while we waited for {what}");
        _end += read;
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
