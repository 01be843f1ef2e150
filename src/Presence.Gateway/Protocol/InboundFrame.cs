using System.Text.Json;

namespace Presence.Gateway.Protocol;

/// <summary>One inbound WebSocket message (text or binary), read as UTF-8 JSON.</summary>
internal abstract record InboundFrame;

/// <summary>A well-formed request frame. <see cref="Params"/> is absent when the client sent none.</summary>
internal sealed record RequestFrame(string Id, string Method, JsonElement? Params) : InboundFrame;

/// <summary>The bytes are not JSON at all.</summary>
internal sealed record MalformedJsonFrame : InboundFrame
{
    public static readonly MalformedJsonFrame Instance = new();
}

/// <summary>
/// JSON, but not a valid request frame. <see cref="Message"/> is the full error text
/// (e.g. <c>invalid request frame: must have required property 'id'</c>);
/// <see cref="Id"/> is the request id when it is a string.
/// </summary>
internal sealed record InvalidFrame(string? Id, string Message) : InboundFrame
{
    /// <summary>
    /// A non-string, non-null <c>id</c> as sent (e.g. <c>42</c>); the real gateway echoes it verbatim
    /// in its error response. When both this and <see cref="Id"/> are null, answer with id <c>"invalid"</c>.
    /// </summary>
    public JsonElement? RawId { get; init; }
}
