namespace Presence.Gateway.Connections;

/// <summary>
/// One outbound WebSocket message in parts: <c>SeqPrefix</c>, the connection's
/// seq (events only), <c>Head</c>, <c>Body</c>, <c>Tail</c>. The parts let a large
/// body (a presence list) be shared by every recipient instead of copied per
/// socket, and let the socket's writer number events at send time, so that seq
/// numbers reach the wire in order.
/// </summary>
internal sealed class OutboundFrame(ReadOnlyMemory<byte> seqPrefix, ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, ReadOnlyMemory<byte> tail)
{
    /// <summary>Room for a seq number's digits.</summary>
    public const int SeqDigits = 20;

    /// <summary><c>{"type":"event","event":"…","seq":</c> for an event, empty for anything without a seq.</summary>
    public ReadOnlyMemory<byte> SeqPrefix { get; } = seqPrefix;
    public ReadOnlyMemory<byte> Head { get; } = head;
    public ReadOnlyMemory<byte> Body { get; } = body;
    public ReadOnlyMemory<byte> Tail { get; } = tail;

    public bool CarriesSeq => !SeqPrefix.IsEmpty;

    public long Length => SeqPrefix.Length + (CarriesSeq ? SeqDigits : 0) + Head.Length + Body.Length + Tail.Length;

    public static OutboundFrame Whole(ReadOnlyMemory<byte> bytes) => new(default, bytes, default, default);
}
