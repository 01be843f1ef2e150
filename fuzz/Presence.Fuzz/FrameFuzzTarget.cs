using System.Buffers;
using System.Net.WebSockets;
using System.Text.Unicode;
using Presence.Gateway.Tests.Transport;
using Presence.Gateway.Transport;

namespace Presence.Fuzz;

/// <summary>
/// The second fuzz target: the bytes a client sends before and after the upgrade, through what the
/// transport does with them. An input is one control byte, then the connection's bytes. Those go to
/// <see cref="WebSocketHandshake.TryRead"/>, whole and as the growing prefixes the listener sees; then
/// whatever follows an accepted head (or all of it) goes through <see cref="FrameDecoder"/>, the read
/// loop's decoder, twice: in one piece, and cut into reads the control byte chooses, each read a new
/// segment as a pipe hands them over. Besides "no exception" (which includes never slicing past the
/// buffer), the target checks the decoder's contracts: a message within the bound, text that is
/// UTF-8, control payloads within 125 bytes, a close code a peer may send, a failure with 1002, 1007
/// or 1009 after which nothing more is decoded, and the same frames however the bytes arrive.
/// </summary>
internal static class FrameFuzzTarget
{
    /// <summary>A small bound half the time, so that 1009 and the bound's edges are reached by short inputs.</summary>
    private const int SmallBound = 300;

    private const int PreauthBound = 64 * 1024;

    /// <summary>Runs one input; true when it decoded a message or a close, so that it went past the frame headers.</summary>
    public static bool Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
            return false;
        var control = input[0];
        var bytes = input[1..].ToArray();
        var frames = CheckHandshake(bytes, control);
        var bound = (control & 0x80) != 0 ? SmallBound : PreauthBound;

        var whole = Decode(frames.ToArray(), bound, readSize: int.MaxValue);
        var pieces = Decode(frames.ToArray(), bound, readSize: 1 + (control & 0x3F));
        Require(whole.Count == pieces.Count, $"{whole.Count} frames decoded in one piece, {pieces.Count} in reads of {1 + (control & 0x3F)}");
        for (var i = 0; i < whole.Count; i++)
            Require(whole[i] == pieces[i], $"frame {i} decoded as {whole[i]} in one piece, as {pieces[i]} in reads");
        return whole.Exists(e => e.Kind is DecodedKind.Message or DecodedKind.Close);
    }

    /// <summary>Checks the handshake's outcome on <paramref name="bytes"/>; returns the bytes that follow an accepted head, or all of them.</summary>
    private static ReadOnlyMemory<byte> CheckHandshake(byte[] bytes, byte control)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);
        var status = WebSocketHandshake.TryRead(buffer, out var end, out var request, out var refusal);
        var headLength = buffer.Slice(buffer.Start, end).Length;
        switch (status)
        {
            case WebSocketHandshake.Status.Upgrade:
                Require(request is not null && refusal is null, "an upgrade without its request, or with a refusal");
                Require(request!.Key.Length == 24 && Convert.TryFromBase64String(request.Key, new byte[18], out var keyBytes) && keyBytes == 16, "an upgrade with an invalid key");
                Require(headLength >= 4 && bytes.AsSpan((int)headLength - 4, 4).SequenceEqual("\r\n\r\n"u8), "an upgrade that does not end after its blank line");
                Require(WebSocketHandshake.Accept(request.Key).AsSpan().StartsWith("HTTP/1.1 101 "u8), "an accept that is not a 101");
                break;
            case WebSocketHandshake.Status.Refused:
                Require(request is null && refusal is { StatusCode: 400 or 426 }, "a refusal without its answer, or with a request");
                Require(WebSocketHandshake.Refuse(refusal!).AsSpan().StartsWith("HTTP/1.1 4"u8), "a refusal answer that is not a 4xx");
                break;
            default:
                // The end is not read here: the listener hands the connection over from its first byte.
                Require(request is null && refusal is null, "a request or refusal without an upgrade");
                break;
        }

        // The listener reads the head as it arrives: the first prefix it can decide on must decide as the whole does.
        // Segments of at least 64 bytes: one-byte segments make each scan of an unfinished head slow, not wrong.
        var step = 1 + (control & 0x3F) * 7;
        var arriving = Segmented(bytes, 64 + step);
        for (var length = 0; length < bytes.Length; length += step)
        {
            var early = WebSocketHandshake.TryRead(arriving.Slice(0, length), out _, out _, out _);
            if (early == WebSocketHandshake.Status.NeedMoreData)
                continue;
            Require(early == status, $"a prefix of {length} bytes was read as {early}, the whole as {status}");
            break;
        }
        return status == WebSocketHandshake.Status.Upgrade ? bytes.AsMemory((int)headLength) : bytes;
    }

    /// <summary>
    /// Decodes <paramref name="bytes"/> as the read loop does, in reads of <paramref name="readSize"/>
    /// bytes: each read is appended to what is left unconsumed, and the decoder runs until it needs more.
    /// </summary>
    private static List<Event> Decode(byte[] bytes, int bound, int readSize)
    {
        var decoder = new FrameDecoder(bound);
        var events = new List<Event>();
        var unconsumed = new List<ReadOnlyMemory<byte>>();
        var arrived = 0;
        try
        {
            while (arrived < bytes.Length)
            {
                var read = Math.Min(readSize, bytes.Length - arrived);
                unconsumed.Add(bytes.AsMemory(arrived, read));
                arrived += read;
                var buffer = Segments.Join(unconsumed);
                while (true)
                {
                    var before = buffer;
                    var decoded = decoder.Next(ref buffer);
                    Require(buffer.Length <= before.Length && buffer.End.Equals(before.End), "the decoder moved outside the buffer");
                    if (decoded.Kind == DecodedKind.NeedMoreData)
                        break;
                    var decodedEvent = Check(decoded, decoder, bound);
                    events.Add(decodedEvent);
                    if (decoded.Kind is DecodedKind.Close or DecodedKind.Failure)
                        return events;
                }
                Consume(unconsumed, before: SequenceLength(unconsumed) - buffer.Length);
            }
            return events;
        }
        finally
        {
            decoder.ReleaseAll();
        }
    }

    private static Event Check(Decoded decoded, FrameDecoder decoder, int bound)
    {
        var payload = decoded.Payload.Span;
        switch (decoded.Kind)
        {
            case DecodedKind.Message:
                Require(decoded.Opcode is Opcode.Text or Opcode.Binary, $"a message with opcode {decoded.Opcode}");
                Require(payload.Length <= bound, $"a message of {payload.Length} bytes over the bound of {bound}");
                Require(decoded.Opcode != Opcode.Text || Utf8.IsValid(payload), "a text message that is not UTF-8");
                break;
            case DecodedKind.Ping or DecodedKind.Pong:
                Require(payload.Length <= WebSocketFrames.MaxControlPayload, "a control payload over 125 bytes");
                break;
            case DecodedKind.Close:
                Require(payload.Length <= WebSocketFrames.MaxControlPayload, "a close payload over 125 bytes");
                Require(decoded.CloseStatus is null == payload.IsEmpty, "a close code without a payload, or a payload without a code");
                Require(decoded.CloseStatus is not { } code || (int)code is >= 1000 and <= 4999 and not (1004 or 1005 or 1006 or 1015), $"close code {decoded.CloseStatus} accepted");
                break;
            case DecodedKind.Failure:
                Require(decoded.Failure.Status is WebSocketCloseStatus.ProtocolError or WebSocketCloseStatus.InvalidPayloadData or WebSocketCloseStatus.MessageTooBig,
                    $"a failure with close code {(int)decoded.Failure.Status}");
                Require(decoded.Failure.Reason is not null && System.Text.Encoding.UTF8.GetByteCount(decoded.Failure.Reason) <= 123, "a failure reason that does not fit a close frame");
                Require(decoder.Failed, "a failure the decoder does not remember");
                var rest = new ReadOnlySequence<byte>(new byte[] { 0x81, 0x80, 0, 0, 0, 0 });
                Require(decoder.Next(ref rest).Kind == DecodedKind.NeedMoreData && rest.IsEmpty, "a frame decoded after a failure");
                break;
            default:
                throw new FuzzInvariantException($"the decoder returned {decoded.Kind}");
        }
        return new Event(decoded.Kind, decoded.Opcode, Convert.ToHexString(payload), decoded.CloseStatus, decoded.Failure);
    }

    private static ReadOnlySequence<byte> Segmented(ReadOnlyMemory<byte> bytes, int segmentSize)
    {
        var pieces = new List<ReadOnlyMemory<byte>>();
        for (var at = 0; at < bytes.Length; at += segmentSize)
            pieces.Add(bytes.Slice(at, Math.Min(segmentSize, bytes.Length - at)));
        return Segments.Join(pieces);
    }

    private static long SequenceLength(List<ReadOnlyMemory<byte>> pieces) => pieces.Sum(p => (long)p.Length);

    /// <summary>Drops the first <paramref name="before"/> bytes, as <c>AdvanceTo</c> does.</summary>
    private static void Consume(List<ReadOnlyMemory<byte>> pieces, long before)
    {
        while (before > 0)
        {
            if (pieces[0].Length <= before)
            {
                before -= pieces[0].Length;
                pieces.RemoveAt(0);
                continue;
            }
            pieces[0] = pieces[0][(int)before..];
            before = 0;
        }
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
            throw new FuzzInvariantException(message);
    }

    /// <summary>One decoded step, comparable by value (the payload as hex).</summary>
    private readonly record struct Event(DecodedKind Kind, Opcode Opcode, string Payload, WebSocketCloseStatus? CloseStatus, Failure Failure);
}
