using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Presence.Gateway.Transport;

/// <summary>What a client's opening handshake asked for, with the headers the gateway reads.</summary>
internal sealed record UpgradeRequest(string Key, string? Origin, string? Host, string? ForwardedFor, string? Forwarded, string? ForwardedProto);

/// <summary>
/// The opening handshake of RFC 6455 §4.2, read straight from a connection's first bytes, so that a
/// WebSocket never builds an HTTP request object. Anything that is not an upgrade on <c>/</c> is left
/// to Kestrel's HTTP server untouched (the Instances page, /healthz, /metrics).
/// </summary>
internal static class WebSocketHandshake
{
    /// <summary>A request head longer than this is not ours to read: Kestrel's HTTP server answers it.</summary>
    public const int MaxHeadBytes = 8 * 1024;

    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    public enum Status
    {
        /// <summary>The head has not fully arrived yet.</summary>
        NeedMoreData,

        /// <summary>Not a WebSocket upgrade on <c>/</c>: the HTTP server takes the connection.</summary>
        NotWebSocket,

        /// <summary>An upgrade on <c>/</c> that breaks the rules: answer <see cref="Refusal"/> and close.</summary>
        Refused,

        /// <summary>A valid upgrade: answer 101 and speak WebSocket from <c>end</c> on.</summary>
        Upgrade,
    }

    /// <summary>An HTTP answer that refuses an upgrade: status line, extra headers, and a one-line body.</summary>
    public sealed record Refusal(int StatusCode, string Reason, string Message, string ExtraHeaders = "");

    public static Status TryRead(in ReadOnlySequence<byte> buffer, out SequencePosition end, out UpgradeRequest? request, out Refusal? refusal)
    {
        request = null;
        refusal = null;
        end = buffer.Start;
        var reader = new SequenceReader<byte>(buffer);
        // A head within the bound has ended by MaxHeadBytes + 4, its blank line included: before that, it may still fit.
        if (!reader.TryReadTo(out ReadOnlySequence<byte> headBytes, "\r\n\r\n"u8))
            return buffer.Length >= MaxHeadBytes + 4 || !LooksLikeGetRoot(buffer) ? Status.NotWebSocket : Status.NeedMoreData;
        if (headBytes.Length > MaxHeadBytes)
            return Status.NotWebSocket;
        end = reader.Position;

        var head = Encoding.Latin1.GetString(headBytes);
        var lines = head.Split("\r\n");
        var requestLine = lines[0].Split(' ');
        if (requestLine.Length != 3 || requestLine[0] != "GET" || !IsRoot(requestLine[1]) || requestLine[2] != "HTTP/1.1")
            return Status.NotWebSocket;

        string? upgrade = null, connection = null, key = null, version = null, origin = null, host = null, forwardedFor = null, forwarded = null, forwardedProto = null;
        foreach (var line in lines.AsSpan(1))
        {
            var colon = line.IndexOf(':');
            if (colon <= 0)
                return Status.NotWebSocket;
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim();
            switch (name.ToLowerInvariant())
            {
                case "upgrade": upgrade = value; break;
                case "connection": connection = value; break;
                case "sec-websocket-key": key = value; break;
                case "sec-websocket-version": version = value; break;
                case "origin": origin = value; break;
                case "host": host = value; break;
                case "x-forwarded-for": forwardedFor = forwardedFor is null ? value : $"{forwardedFor}, {value}"; break;
                case "forwarded": forwarded = forwarded is null ? value : $"{forwarded}, {value}"; break;
                case "x-forwarded-proto": forwardedProto = forwardedProto is null ? value : $"{forwardedProto}, {value}"; break;
            }
        }
        if (upgrade is null || !HasToken(upgrade, "websocket"))
            return Status.NotWebSocket;

        refusal = Check(connection, key, version, host);
        if (refusal is not null)
            return Status.Refused;
        request = new UpgradeRequest(key!, origin, host, forwardedFor, forwarded, forwardedProto);
        return Status.Upgrade;
    }

    private static Refusal? Check(string? connection, string? key, string? version, string? host)
    {
        if (connection is null || !HasToken(connection, "upgrade"))
            return new Refusal(400, "Bad Request", "Connection header must contain Upgrade");
        if (version != "13")
            return new Refusal(426, "Upgrade Required", "unsupported Sec-WebSocket-Version", "Sec-WebSocket-Version: 13\r\n");
        if (!IsValidKey(key))
            return new Refusal(400, "Bad Request", "Sec-WebSocket-Key must be 16 bytes in base64");
        if (string.IsNullOrEmpty(host))
            return new Refusal(400, "Bad Request", "Host header is required");
        return null;
    }

    /// <summary>The 101 answer: no subprotocol, and no extension (permessage-deflate is declined, as by the OpenClaw gateway).</summary>
    public static byte[] Accept(string key) => Encoding.ASCII.GetBytes(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + AcceptKey(key) + "\r\n\r\n");

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5350", Justification = "RFC 6455 §4.2.2 defines the accept key as SHA-1; it proves the server read the handshake and protects nothing.")]
    public static string AcceptKey(string key) =>
        Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));

    public static byte[] Refuse(Refusal refusal)
    {
        var body = refusal.Message + "\n";
        return Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {refusal.StatusCode} {refusal.Reason}\r\n{refusal.ExtraHeaders}Content-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}");
    }

    private static bool IsRoot(string target) => target == "/" || target.StartsWith("/?", StringComparison.Ordinal);

    /// <summary>Only a <c>GET /</c> can become ours; anything else goes to the HTTP server without waiting for its whole head.</summary>
    private static bool LooksLikeGetRoot(in ReadOnlySequence<byte> buffer)
    {
        ReadOnlySpan<byte> prefix = "GET /"u8;
        Span<byte> start = stackalloc byte[prefix.Length];
        var length = (int)Math.Min(buffer.Length, prefix.Length);
        buffer.Slice(0, length).CopyTo(start);
        return start[..length].SequenceEqual(prefix[..length]);
    }

    private static bool HasToken(string header, string token)
    {
        foreach (var part in header.Split(','))
        {
            if (part.Trim().Equals(token, StringComparison.OrdinalIgnoreCase))
                return true;
        }
        return false;
    }

    private static bool IsValidKey(string? key)
    {
        Span<byte> decoded = stackalloc byte[18];
        return key is { Length: 24 } && Convert.TryFromBase64String(key, decoded, out var written) && written == 16;
    }
}
