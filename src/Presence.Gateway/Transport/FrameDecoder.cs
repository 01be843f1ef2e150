using System.Buffers;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Text.Unicode;

namespace Presence.Gateway.Transport;

/// <summary>What <see cref="FrameDecoder.Next"/> found.</summary>
internal enum DecodedKind
{
    /// <summary>Nothing more can be decoded until more bytes arrive.</summary>
    NeedMoreData,

    /// <summary>A whole data message: <see cref="Decoded.Opcode"/> (text or binary) and its unmasked payload.</summary>
    Message,

    /// <summary>A ping; its payload is a copy the caller may keep (the pong carries it back).</summary>
    Ping,

    Pong,

    /// <summary>A valid close from the client, with its code (none when its payload was empty).</summary>
    Close,

    /// <summary>The connection must be failed with <see cref="Decoded.Failure"/>; every later byte is discarded.</summary>
    Failure,
}

/// <summary>One step of decoding. A message's payload is valid until the next call to the decoder.</summary>
internal readonly record struct Decoded(DecodedKind Kind, Opcode Opcode = default, ReadOnlyMemory<byte> Payload = default, WebSocketCloseStatus? CloseStatus = null, Failure Failure = default)
{
    public static readonly Decoded NeedMoreData = new(DecodedKind.NeedMoreData);
}

/// <summary>
/// The read side of RFC 6455 for one connection, a state machine over whatever bytes have arrived:
/// frame headers, unmasking, the assembly of fragmented messages (with control frames between the
/// fragments), the message bound, UTF-8 of text messages and close payloads. No socket and no actor,
/// so that the read loop of <see cref="WebSocketConnection"/> and the fuzzer run the same decoding.
/// A message that arrives whole in one segment is unmasked where it lies; only one that does not is
/// assembled, in an array rented for it and returned once it has been handed out.
/// </summary>
internal sealed class FrameDecoder(int maxMessageBytes)
{
    private volatile int _maxMessageBytes = maxMessageBytes;
    private FrameHeader _frame;
    private bool _inFrame;
    private long _frameBytesRead;
    private Opcode? _messageOpcode;
    private byte[]? _message;
    private int _messageLength;

    /// <summary>The largest message accepted; raised once the handshake is done (any thread may set it).</summary>
    public int MaxMessageBytes
    {
        get => _maxMessageBytes;
        set => _maxMessageBytes = value;
    }

    /// <summary>True once a failure was decoded: the byte stream cannot be trusted any more.</summary>
    public bool Failed { get; private set; }

    /// <summary>True when the next byte starts a frame, where a reader may stop reading without splitting one.</summary>
    public bool BetweenFrames => !_inFrame;

    /// <summary>Decodes the next frame or message of <paramref name="buffer"/>, which is left at the first byte not consumed.</summary>
    public Decoded Next(ref ReadOnlySequence<byte> buffer)
    {
        Release();
        while (true)
        {
            if (Failed)
            {
                // After a protocol failure the byte stream cannot be trusted: discard it until the peer closes.
                buffer = buffer.Slice(buffer.End);
                return Decoded.NeedMoreData;
            }
            if (!_inFrame)
            {
                switch (WebSocketFrames.TryReadHeader(buffer, out var header, out var headerLength, out var failure))
                {
                    case WebSocketFrames.HeaderStatus.NeedMoreData:
                        return Decoded.NeedMoreData;
                    case WebSocketFrames.HeaderStatus.Invalid:
                        return Fail(failure);
                }
                if (Sequencing(header) is { } outOfOrder)
                    return Fail(outOfOrder);
                if (header.IsControl)
                {
                    if (buffer.Length < headerLength + header.PayloadLength)
                        return Decoded.NeedMoreData;
                    var control = Control(header, buffer.Slice(headerLength, header.PayloadLength));
                    buffer = buffer.Slice(headerLength + header.PayloadLength);
                    return control;
                }
                if (_messageOpcode is null && header.Fin && buffer.Length >= headerLength + header.PayloadLength
                    && buffer.Slice(headerLength, header.PayloadLength) is { IsSingleSegment: true } whole)
                {
                    // The common case, a whole message in one piece: unmasked where it lies, no copy.
                    var payload = MemoryMarshal.AsMemory(whole.First);
                    WebSocketFrames.Unmask(payload.Span, header.Mask, 0);
                    buffer = buffer.Slice(headerLength + header.PayloadLength);
                    return Message(header.Opcode, payload);
                }
                _frame = header;
                _inFrame = true;
                _frameBytesRead = 0;
                _messageOpcode ??= header.Opcode;
                buffer = buffer.Slice(headerLength);
            }
            if (!ReadPayload(ref buffer))
                return Decoded.NeedMoreData;
            if (_frame.Fin)
            {
                var opcode = _messageOpcode!.Value;
                _messageOpcode = null;
                return Message(opcode, _message.AsMemory(0, _messageLength));
            }
        }
    }

    /// <summary>Returns the array a message was assembled in, once it has been handed out (or the connection ends).</summary>
    public void Release()
    {
        if (_messageOpcode is not null || _inFrame || _message is null)
            return;
        ArrayPool<byte>.Shared.Return(_message);
        _message = null;
        _messageLength = 0;
    }

    /// <summary>Returns the assembly array even mid-message: the connection is over.</summary>
    public void ReleaseAll()
    {
        if (_message is not null)
            ArrayPool<byte>.Shared.Return(_message);
        _message = null;
        _messageLength = 0;
    }

    private Decoded Message(Opcode opcode, ReadOnlyMemory<byte> payload) =>
        opcode == Opcode.Text && !Utf8.IsValid(payload.Span)
            ? Fail(new Failure(WebSocketCloseStatus.InvalidPayloadData, "invalid UTF-8"))
            : new Decoded(DecodedKind.Message, opcode, payload);

    /// <summary>Data frames must form messages: a first frame, then continuations up to one with FIN; and a message is bounded.</summary>
    private Failure? Sequencing(FrameHeader header)
    {
        if (header.IsControl)
            return null;
        if (header.Opcode == Opcode.Continuation && _messageOpcode is null)
            return Failure.Protocol("continuation frame without a message");
        if (header.Opcode != Opcode.Continuation && _messageOpcode is not null)
            return Failure.Protocol("new message before the previous one ended");
        if (_messageLength + header.PayloadLength > _maxMessageBytes)
            return new Failure(WebSocketCloseStatus.MessageTooBig, "");
        return null;
    }

    /// <summary>Copies (unmasking) what has arrived of the current frame's payload; true once the frame is complete.</summary>
    private bool ReadPayload(ref ReadOnlySequence<byte> buffer)
    {
        var remaining = _frame.PayloadLength - _frameBytesRead;
        var take = (int)Math.Min(remaining, buffer.Length);
        EnsureMessageCapacity(_messageLength + take);
        var destination = _message.AsSpan(_messageLength, take);
        buffer.Slice(0, take).CopyTo(destination);
        WebSocketFrames.Unmask(destination, _frame.Mask, _frameBytesRead);
        _messageLength += take;
        _frameBytesRead += take;
        buffer = buffer.Slice(take);
        if (_frameBytesRead < _frame.PayloadLength)
            return false;
        _inFrame = false;
        return true;
    }

    private void EnsureMessageCapacity(int length)
    {
        if (_message is not null && _message.Length >= length)
            return;
        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(length, Math.Min(_maxMessageBytes, (_message?.Length ?? 2048) * 2)));
        if (_message is not null)
        {
            _message.AsSpan(0, _messageLength).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_message);
        }
        _message = larger;
    }

    private Decoded Control(FrameHeader header, ReadOnlySequence<byte> masked)
    {
        var payload = masked.ToArray();
        WebSocketFrames.Unmask(payload, header.Mask, 0);
        switch (header.Opcode)
        {
            case Opcode.Ping:
                return new Decoded(DecodedKind.Ping, Opcode.Ping, payload);
            case Opcode.Pong:
                return new Decoded(DecodedKind.Pong, Opcode.Pong, payload);
        }
        return WebSocketFrames.TryReadClose(payload, out var status, out var failure)
            ? new Decoded(DecodedKind.Close, Opcode.Close, payload, status)
            : Fail(failure);
    }

    private Decoded Fail(Failure failure)
    {
        Failed = true;
        return new Decoded(DecodedKind.Failure, Failure: failure);
    }
}
