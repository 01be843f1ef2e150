using System.Buffers;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Presence.Actors.Domain;
using Presence.Gateway.Protocol;

namespace Presence.Gateway.Connections;

/// <summary>Builds the frames the gateway sends, as UTF-8 bytes ready for an <see cref="Transport.Outbox"/>.</summary>
internal static class ServerFrames
{
    /// <summary>The health counter of <c>stateVersion</c>; this gateway publishes no health changes.</summary>
    public const long HealthVersion = 1;

    public static readonly ImmutableArray<string> Methods = ["health", "status", "system-presence", "system-event", "config.get", .. DeviceMethods.Names, InstancesMethod.Name];
    public static readonly ImmutableArray<string> Events = ["connect.challenge", "presence", "tick", "health", "shutdown"];

    private static readonly byte[] PresenceSeqPrefix = SeqPrefix("presence");
    private static readonly byte[] TickSeqPrefix = SeqPrefix("tick");
    private static readonly byte[] ShutdownSeqPrefix = SeqPrefix("shutdown");
    private static readonly byte[] CloseObject = "}"u8.ToArray();
    private static readonly byte[] ClosePresencePayload = "}}"u8.ToArray();
    // hello-ok's list sits in snapshot, in payload, in the frame: three objects to close after it.
    private static readonly byte[] CloseHelloOk = "}}}"u8.ToArray();
    private static readonly byte[] EmptyList = "[]"u8.ToArray();

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    public static OutboundFrame Challenge(string nonce, long ts) => OutboundFrame.Whole(Json(writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "event"u8);
        writer.WriteString("event"u8, "connect.challenge"u8);
        writer.WriteStartObject("payload"u8);
        writer.WriteString("nonce"u8, nonce);
        writer.WriteNumber("ts"u8, ts);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }));

    /// <summary>A successful response whose payload the caller writes.</summary>
    public static OutboundFrame Ok(string id, Action<Utf8JsonWriter> writePayload) => OutboundFrame.Whole(Json(writer =>
    {
        WriteResponseStart(writer, id, ok: true);
        writer.WritePropertyName("payload"u8);
        writePayload(writer);
        writer.WriteEndObject();
    }));

    /// <summary>A successful response around an already serialised payload, which is shared, not copied.</summary>
    public static OutboundFrame Ok(string id, ReadOnlyMemory<byte> payloadJson) =>
        new(default, ResponseHead(id), payloadJson, CloseObject);

    public static OutboundFrame Error(string id, GatewayError error) => OutboundFrame.Whole(Json(writer =>
    {
        WriteResponseStart(writer, id, ok: false);
        WriteError(writer, error);
    }));

    /// <summary>The answer to a frame that is not a valid request: its id echoed as sent (even a number), else <c>"invalid"</c>.</summary>
    public static OutboundFrame Error(InvalidFrame invalid) => OutboundFrame.Whole(Json(writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "res"u8);
        writer.WritePropertyName("id"u8);
        if (invalid.Id is null && invalid.RawId is { } rawId)
            rawId.WriteTo(writer);
        else
            writer.WriteStringValue(invalid.Id ?? "invalid");
        writer.WriteBoolean("ok"u8, false);
        WriteError(writer, GatewayErrors.InvalidRequestFrame(invalid.Message));
    }));

    /// <summary>The <c>presence</c> event for one snapshot: built once, sent to every reader.</summary>
    public static OutboundFrame Presence(PresenceSnapshot snapshot)
    {
        var head = Json(writer =>
        {
            writer.WriteStartObject();
            WriteStateVersion(writer, snapshot.StateVersion);
            writer.WriteStartObject("payload"u8);
            writer.WritePropertyName("presence"u8);
            writer.WriteRawValue(EmptyList);
        });
        // The closing braces are joined to the list once per change, not per recipient: a large event then
        // goes to each socket as two fragments instead of three, one rented copy and one flush fewer each.
        var body = new byte[snapshot.Json.Length + ClosePresencePayload.Length];
        snapshot.Json.Span.CopyTo(body);
        ClosePresencePayload.CopyTo(body, snapshot.Json.Length);
        return new OutboundFrame(PresenceSeqPrefix, AfterSeq(head).AsMemory(0, head.Length - EmptyList.Length), body, default);
    }

    public static OutboundFrame Tick(long ts) => new(TickSeqPrefix, AfterSeq(Json(writer =>
    {
        writer.WriteStartObject();
        writer.WriteStartObject("payload"u8);
        writer.WriteNumber("ts"u8, ts);
        writer.WriteEndObject();
        writer.WriteEndObject();
    })), default, default);

    public static readonly OutboundFrame Shutdown = new(ShutdownSeqPrefix, ",\"payload\":{\"reason\":\"gateway stopping\"}}"u8.ToArray(), default, default);

    /// <summary>The <c>hello-ok</c> response; the presence list (already projected for this client) is shared, not copied.</summary>
    public static OutboundFrame HelloOk(string id, HelloOk hello, ReadOnlyMemory<byte> presenceJson)
    {
        var head = Json(writer =>
        {
            WriteResponseStart(writer, id, ok: true);
            writer.WriteStartObject("payload"u8);
            writer.WriteString("type"u8, "hello-ok"u8);
            writer.WriteNumber("protocol"u8, ProtocolVersions.Current);
            writer.WriteStartObject("server"u8);
            writer.WriteString("version"u8, hello.ServerVersion);
            writer.WriteString("connId"u8, hello.ConnectionId);
            writer.WriteEndObject();
            writer.WriteStartObject("features"u8);
            WriteStrings(writer, "methods"u8, Methods);
            WriteStrings(writer, "events"u8, Events);
            writer.WriteEndObject();
            writer.WriteStartObject("auth"u8);
            writer.WriteString("role"u8, hello.Role);
            WriteStrings(writer, "scopes"u8, hello.Scopes);
            writer.WriteEndObject();
            writer.WriteStartObject("policy"u8);
            writer.WriteNumber("maxPayload"u8, hello.MaxPayload);
            writer.WriteNumber("maxBufferedBytes"u8, hello.MaxBufferedBytes);
            writer.WriteNumber("tickIntervalMs"u8, hello.TickIntervalMs);
            writer.WriteEndObject();
            writer.WriteStartObject("snapshot"u8);
            writer.WriteStartObject("health"u8);
            WriteHealth(writer, hello.Now, hello.UptimeMs);
            writer.WriteEndObject();
            WriteStateVersion(writer, hello.PresenceVersion);
            writer.WriteNumber("uptimeMs"u8, hello.UptimeMs);
            writer.WritePropertyName("presence"u8);
            writer.WriteRawValue(EmptyList);
        });
        return new OutboundFrame(default, head.AsMemory(0, head.Length - EmptyList.Length), presenceJson, CloseHelloOk);
    }

    /// <summary>The payload of the <c>health</c> method and of the hello snapshot.</summary>
    public static void WriteHealth(Utf8JsonWriter writer, long now, long uptimeMs)
    {
        writer.WriteBoolean("ok"u8, true);
        writer.WriteNumber("ts"u8, now);
        writer.WriteNumber("durationMs"u8, 0);
        writer.WriteNumber("uptimeMs"u8, uptimeMs);
    }

    public static ReadOnlyMemory<byte> EmptyPresence => EmptyList;

    private static void WriteError(Utf8JsonWriter writer, GatewayError error)
    {
        writer.WritePropertyName("error"u8);
        ErrorJson.Write(writer, error);
        writer.WriteEndObject();
    }

    private static void WriteResponseStart(Utf8JsonWriter writer, string id, bool ok)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "res"u8);
        writer.WriteString("id"u8, id);
        writer.WriteBoolean("ok"u8, ok);
    }

    private static byte[] ResponseHead(string id)
    {
        var head = Json(writer =>
        {
            WriteResponseStart(writer, id, ok: true);
            writer.WritePropertyName("payload"u8);
            writer.WriteRawValue(EmptyList);
        });
        return head.AsSpan(0, head.Length - EmptyList.Length).ToArray();
    }

    private static void WriteStateVersion(Utf8JsonWriter writer, long presenceVersion)
    {
        writer.WriteStartObject("stateVersion"u8);
        writer.WriteNumber("presence"u8, presenceVersion);
        writer.WriteNumber("health"u8, HealthVersion);
        writer.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter writer, ReadOnlySpan<byte> name, ImmutableArray<string> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
            writer.WriteStringValue(value);
        writer.WriteEndArray();
    }

    /// <summary>
    /// Turns an object written from its start (<c>{"a":…</c>) into the rest of an event
    /// that follows the seq number (<c>,"a":…</c>).
    /// </summary>
    private static byte[] AfterSeq(byte[] json)
    {
        json[0] = (byte)',';
        return json;
    }

    private static byte[] SeqPrefix(string eventName) => Encoding.UTF8.GetBytes($"{{\"type\":\"event\",\"event\":\"{eventName}\",\"seq\":");

    /// <summary>Serialises with a per-thread buffer; validation is off so that a frame may be left open for a shared body to follow.</summary>
    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer, PresenceJson.WriterOptions))
            write(writer);
        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>What a <c>hello-ok</c> tells one client.</summary>
internal sealed record HelloOk(
    string ServerVersion,
    string ConnectionId,
    string Role,
    ImmutableArray<string> Scopes,
    long PresenceVersion,
    long Now,
    long UptimeMs,
    int MaxPayload,
    long MaxBufferedBytes,
    long TickIntervalMs);
