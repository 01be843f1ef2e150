using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Presence.Actors.Domain;
using Presence.Gateway.Connections;

namespace Presence.Gateway.Tests.Connections;

/// <summary>A connection with no socket: keeps what the actor sends, how it closes, and how many frames it reported handled.</summary>
internal sealed class RecordingConnection(string? origin = null) : IClientConnection
{
    private readonly ConcurrentQueue<JsonObject> _sent = new();
    private int _handled;

    public PeerInfo Info { get; } = new(ConnectionId.New(), IPAddress.Parse("198.51.100.7"), origin, "http://127.0.0.1:18789");

    public IReadOnlyList<JsonObject> Sent => [.. _sent];

    /// <summary>The ids of the responses sent, in order.</summary>
    public IReadOnlyList<string> ResponseIds => [.. _sent.Where(frame => (string?)frame["type"] == "res").Select(frame => (string)frame["id"]!)];

    public (WebSocketCloseStatus Status, string Reason)? Closed { get; private set; }

    public int MaxPayload { get; private set; }

    public int Handled => Volatile.Read(ref _handled);

    public void Send(OutboundFrame frame) => _sent.Enqueue(Parse(frame));

    public void OfferPresence(OutboundFrame frame) => _sent.Enqueue(Parse(frame));

    public void Close(WebSocketCloseStatus status, string reason) => Closed ??= (status, reason);

    public void HandshakeCompleted(int maxPayload) => MaxPayload = maxPayload;

    public void FrameHandled() => Interlocked.Increment(ref _handled);

    public bool Ping() => true;

    /// <summary>The frame as the wire would carry it; an event's seq, numbered by the socket at send time, is written as 0.</summary>
    private static JsonObject Parse(OutboundFrame frame)
    {
        var text = Encoding.UTF8.GetString(frame.SeqPrefix.Span) + (frame.CarriesSeq ? "0" : "")
            + Encoding.UTF8.GetString(frame.Head.Span) + Encoding.UTF8.GetString(frame.Body.Span) + Encoding.UTF8.GetString(frame.Tail.Span);
        return JsonNode.Parse(text)!.AsObject();
    }
}
