using System.Buffers;
using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Presence.Gateway.Transport;

/// <summary>The opcodes of RFC 6455 §5.2 that this server knows; any other is a protocol error.</summary>
internal enum Opcode : byte
{
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
}

/// <summary>The fixed part of one client frame: its flags, opcode, payload length and masking key.</summary>
internal readonly record struct FrameHeader(bool Fin, Opcode Opcode, long PayloadLength, uint Mask)
{
    public bool IsControl => Opcode >= Opcode.Close;
}

/// <summary>Why a connection must be failed (RFC 6455 §7.1.7): the close code and a reason for the peer.</summary>
internal readonly record struct Failure(WebSocketCloseStatus Status, string Reason)
{
    public static Failure Protocol(string reason) => new(WebSocketCloseStatus.ProtocolError, reason);
}

/// <summary>
/// RFC 6455 framing (§5): reading the frames a client sends, which are always masked, and writing the
/// frames a server sends, which never are. Pure functions over bytes, so that the wire rules can be
/// tested and fuzzed without a socket.
/// </summary>
internal static class WebSocketFrames
{
    /// <summary>Control frames carry at most 125 bytes (§5.5).</summary>
    public const int MaxControlPayload = 125;

    /// <summary>The longest server frame header: 2 bytes, then a 64-bit length.</summary>
    public const int MaxServerHeader = 10;

    public enum HeaderStatus
    {
        Complete,
        NeedMoreData,
        Invalid,
    }

    /// <summary>
    /// Reads a client frame's header from the start of <paramref name="buffer"/>. A header that breaks
    /// the rules (reserved bits, an unknown opcode, no mask, a fragmented or oversized control frame, a
    /// 64-bit length with its top bit set) is <see cref="HeaderStatus.Invalid"/>, with the failure to close with.
    /// </summary>
    public static HeaderStatus TryReadHeader(in ReadOnlySequence<byte> buffer, out FrameHeader header, out int headerLength, out Failure failure)
    {
        header = default;
        failure = default;
        headerLength = 0;
        Span<byte> bytes = stackalloc byte[14];
        var available = (int)Math.Min(buffer.Length, bytes.Length);
        if (available < 2)
            return HeaderStatus.NeedMoreData;
        buffer.Slice(0, available).CopyTo(bytes);

        var first = bytes[0];
        var second = bytes[1];
        var fin = (first & 0x80) != 0;
        if ((first & 0x70) != 0)
            return Fail(out failure, "reserved bits must be 0");
        var opcode = (Opcode)(first & 0x0F);
        if (opcode is not (Opcode.Continuation or Opcode.Text or Opcode.Binary or Opcode.Close or Opcode.Ping or Opcode.Pong))
            return Fail(out failure, $"unknown opcode {first & 0x0F}");
        if ((second & 0x80) == 0)
            return Fail(out failure, "client frames must be masked");

        long length = second & 0x7F;
        var at = 2;
        if (length == 126)
        {
            if (available < 4)
                return HeaderStatus.NeedMoreData;
            length = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
            at = 4;
        }
        else if (length == 127)
        {
            if (available < 10)
                return HeaderStatus.NeedMoreData;
            var wide = BinaryPrimitives.ReadUInt64BigEndian(bytes[2..]);
            if (wide > long.MaxValue)
                return Fail(out failure, "payload length out of range");
            length = (long)wide;
            at = 10;
        }
        if (opcode >= Opcode.Close && (!fin || length > MaxControlPayload))
            return Fail(out failure, "control frames must be whole and at most 125 bytes");
        if (available < at + 4)
            return HeaderStatus.NeedMoreData;
        var mask = BinaryPrimitives.ReadUInt32LittleEndian(bytes[at..]);
        header = new FrameHeader(fin, opcode, length, mask);
        headerLength = at + 4;
        return HeaderStatus.Complete;
    }

    private static HeaderStatus Fail(out Failure failure, string reason)
    {
        failure = Failure.Protocol(reason);
        return HeaderStatus.Invalid;
    }

    /// <summary>
    /// Unmasks <paramref name="payload"/> in place. <paramref name="offset"/> is how many bytes of the
    /// same frame's payload came before it, so a payload that arrives in pieces unmasks piece by piece.
    /// </summary>
    public static void Unmask(Span<byte> payload, uint mask, long offset)
    {
        var shift = (int)(offset & 3) * 8;
        var rotated = BitOperations.RotateRight(mask, shift);
        var i = 0;
        if (Vector.IsHardwareAccelerated && payload.Length >= Vector<byte>.Count)
        {
            Span<uint> lanes = stackalloc uint[Vector<uint>.Count];
            lanes.Fill(rotated);
            var maskVector = new Vector<byte>(MemoryMarshal.AsBytes(lanes));
            var vectors = MemoryMarshal.Cast<byte, Vector<byte>>(payload);
            for (var v = 0; v < vectors.Length; v++)
                vectors[v] ^= maskVector;
            i = vectors.Length * Vector<byte>.Count;
        }
        for (; i < payload.Length; i++)
            payload[i] ^= (byte)(rotated >> ((i & 3) * 8));
    }

    /// <summary>Writes a server frame header (FIN set, unmasked) for a payload of <paramref name="length"/> bytes; returns its size.</summary>
    public static int WriteHeader(Span<byte> destination, Opcode opcode, long length)
    {
        destination[0] = (byte)(0x80 | (byte)opcode);
        if (length <= 125)
        {
            destination[1] = (byte)length;
            return 2;
        }
        if (length <= ushort.MaxValue)
        {
            destination[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)length);
            return 4;
        }
        destination[1] = 127;
        BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)length);
        return 10;
    }

    /// <summary>
    /// Reads a close frame's payload (§5.5.1): empty, or a valid code and a UTF-8 reason. Codes a peer
    /// may not send (1005, 1006, 1015, unassigned ones) and a one-byte payload fail the connection.
    /// </summary>
    public static bool TryReadClose(ReadOnlySpan<byte> payload, out WebSocketCloseStatus? status, out Failure failure)
    {
        status = null;
        failure = default;
        if (payload.IsEmpty)
            return true;
        if (payload.Length == 1)
        {
            failure = Failure.Protocol("close payload of one byte");
            return false;
        }
        var code = BinaryPrimitives.ReadUInt16BigEndian(payload);
        if (!IsValidPeerCloseCode(code))
        {
            failure = Failure.Protocol($"invalid close code {code}");
            return false;
        }
        if (!System.Text.Unicode.Utf8.IsValid(payload[2..]))
        {
            failure = new Failure(WebSocketCloseStatus.InvalidPayloadData, "close reason is not UTF-8");
            return false;
        }
        status = (WebSocketCloseStatus)code;
        return true;
    }

    private static bool IsValidPeerCloseCode(int code) =>
        code is >= 1000 and <= 1003 or >= 1007 and <= 1014 and not 1005 and not 1006 or >= 3000 and <= 4999;

    /// <summary>The payload of a close frame the server sends: the code, then the reason in UTF-8 (at most 123 bytes).</summary>
    public static byte[] ClosePayload(WebSocketCloseStatus status, string reason)
    {
        var payload = new byte[2 + System.Text.Encoding.UTF8.GetByteCount(reason)];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)status);
        System.Text.Encoding.UTF8.GetBytes(reason, payload.AsSpan(2));
        return payload;
    }
}
