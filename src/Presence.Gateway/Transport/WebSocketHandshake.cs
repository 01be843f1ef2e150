using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Presence.Gateway.Auth;

namespace Presence.Gateway.Transport;

/// <summary>
/// What a client's opening handshake asked for, with the headers the gateway reads; <c>Proxied</c>: a proxy header
/// (<c>Forwarded</c>, <c>X-Forwarded-*</c>, <c>X-Real-IP</c>) came with it.
/// </summary>
internal sealed record UpgradeRequest(string Key, string? Origin, string? Host, string? ForwardedFor, string? Forwarded, string? ForwardedProto, bool Proxied = false);

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

    /// <summary>HTTP's optional whitespace (RFC 9110 §5.6.3): what surrounds a value or a list element.</summary>
    private static ReadOnlySpan<byte> Whitespace => " \t"u8;

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
        if (headBytes.IsSingleSegment)
            return Read(headBytes.FirstSpan, out request, out refusal);
        // A head that arrived in several reads is copied once, to be read like one that came whole.
        var length = (int)headBytes.Length;
        var copy = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            headBytes.CopyTo(copy);
            return Read(copy.AsSpan(0, length), out request, out refusal);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    /// <summary>
    /// Reads a whole head (without its blank line) in place: the only strings made are the values an
    /// accepted upgrade keeps. Header names match case-insensitively; values lose the optional
    /// whitespace around them (spaces and tabs, RFC 9110 §5.5); of a repeated header the last counts,
    /// except the proxy headers, whose values are joined with ", " as a proxy chain is, and <c>Host</c> and
    /// <c>Sec-WebSocket-Key</c>, which may appear once only (RFC 9112 §3.2, RFC 6455 §11.3.1). A line that is
    /// not <c>name: value</c> with a token for a name (a folded continuation line, a space before the
    /// colon) is left to the HTTP server, which refuses it.
    /// </summary>
    private static Status Read(ReadOnlySpan<byte> head, out UpgradeRequest? request, out Refusal? refusal)
    {
        request = null;
        refusal = null;
        var lineEnd = head.IndexOf("\r\n"u8);
        if (!IsUpgradeTarget(lineEnd < 0 ? head : head[..lineEnd]))
            return Status.NotWebSocket;

        ReadOnlySpan<byte> upgrade = default, connection = default, key = default, version = default, origin = default, host = default;
        string? forwardedFor = null, forwarded = null, forwardedProto = null;
        bool hasOrigin = false, proxied = false;
        int hosts = 0, keys = 0;
        var rest = lineEnd < 0 ? default : head[(lineEnd + 2)..];
        while (lineEnd >= 0)
        {
            lineEnd = rest.IndexOf("\r\n"u8);
            var line = lineEnd < 0 ? rest : rest[..lineEnd];
            rest = lineEnd < 0 ? default : rest[(lineEnd + 2)..];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || line[..colon].IndexOfAny(Whitespace) >= 0)
                return Status.NotWebSocket;
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim(Whitespace);
            proxied |= BrowserOrigin.IsProxyHeader(name);
            if (Ascii.EqualsIgnoreCase(name, "upgrade"u8))
                upgrade = value;
            else if (Ascii.EqualsIgnoreCase(name, "connection"u8))
                connection = value;
            else if (Ascii.EqualsIgnoreCase(name, "sec-websocket-key"u8))
            {
                key = value;
                keys++;
            }
            else if (Ascii.EqualsIgnoreCase(name, "sec-websocket-version"u8))
                version = value;
            else if (Ascii.EqualsIgnoreCase(name, "origin"u8))
            {
                origin = value;
                hasOrigin = true;
            }
            else if (Ascii.EqualsIgnoreCase(name, "host"u8))
            {
                host = value;
                hosts++;
            }
            else if (Ascii.EqualsIgnoreCase(name, "x-forwarded-for"u8))
                forwardedFor = Join(forwardedFor, value);
            else if (Ascii.EqualsIgnoreCase(name, "forwarded"u8))
                forwarded = Join(forwarded, value);
            else if (Ascii.EqualsIgnoreCase(name, "x-forwarded-proto"u8))
                forwardedProto = Join(forwardedProto, value);
        }
        if (!HasToken(upgrade, "websocket"u8))
            return Status.NotWebSocket;

        refusal = hosts > 1 ? new Refusal(400, "Bad Request", "more than one Host header")
            : keys > 1 ? new Refusal(400, "Bad Request", "more than one Sec-WebSocket-Key header")
            : Check(connection, key, version, host);
        if (refusal is not null)
            return Status.Refused;
        request = new UpgradeRequest(Latin1(key), hasOrigin ? Latin1(origin) : null, Latin1(host), forwardedFor, forwarded, forwardedProto, proxied);
        return Status.Upgrade;
    }

    private static Refusal? Check(ReadOnlySpan<byte> connection, ReadOnlySpan<byte> key, ReadOnlySpan<byte> version, ReadOnlySpan<byte> host)
    {
        if (!HasToken(connection, "upgrade"u8))
            return new Refusal(400, "Bad Request", "Connection header must contain Upgrade");
        if (!version.SequenceEqual("13"u8))
            return new Refusal(426, "Upgrade Required", "unsupported Sec-WebSocket-Version", "Sec-WebSocket-Version: 13\r\n");
        if (!IsValidKey(key))
            return new Refusal(400, "Bad Request", "Sec-WebSocket-Key must be 16 bytes in base64");
        if (host.IsEmpty)
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

    /// <summary>Exactly <c>GET &lt;target&gt; HTTP/1.1</c> with single spaces, on <c>/</c> or <c>/?query</c>.</summary>
    private static bool IsUpgradeTarget(ReadOnlySpan<byte> requestLine)
    {
        ReadOnlySpan<byte> method = "GET "u8, protocol = " HTTP/1.1"u8;
        if (requestLine.Length <= method.Length + protocol.Length || !requestLine.StartsWith(method) || !requestLine.EndsWith(protocol))
            return false;
        var target = requestLine[method.Length..^protocol.Length];
        return !target.Contains((byte)' ') && (target.SequenceEqual("/"u8) || target.StartsWith("/?"u8));
    }

    /// <summary>Only a <c>GET /</c> can become ours; anything else goes to the HTTP server without waiting for its whole head.</summary>
    private static bool LooksLikeGetRoot(in ReadOnlySequence<byte> buffer)
    {
        ReadOnlySpan<byte> prefix = "GET /"u8;
        Span<byte> start = stackalloc byte[prefix.Length];
        var length = (int)Math.Min(buffer.Length, prefix.Length);
        buffer.Slice(0, length).CopyTo(start);
        return start[..length].SequenceEqual(prefix[..length]);
    }

    private static bool HasToken(ReadOnlySpan<byte> header, ReadOnlySpan<byte> token)
    {
        foreach (var part in header.Split((byte)','))
        {
            if (Ascii.EqualsIgnoreCase(header[part].Trim(Whitespace), token))
                return true;
        }
        return false;
    }

    private static bool IsValidKey(ReadOnlySpan<byte> key)
    {
        Span<byte> decoded = stackalloc byte[18];
        return key.Length == 24 && Base64.DecodeFromUtf8(key, decoded, out _, out var written) == OperationStatus.Done && written == 16;
    }

    private static string Join(string? joined, ReadOnlySpan<byte> value) => joined is null ? Latin1(value) : $"{joined}, {Latin1(value)}";

    private static string Latin1(ReadOnlySpan<byte> value) => Encoding.Latin1.GetString(value);
}
