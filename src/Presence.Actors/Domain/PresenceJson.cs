using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Presence.Actors.Domain;

/// <summary>
/// Compact UTF-8 JSON for presence rows: wire names, absent fields left out.
/// Written by hand because it runs once per changed row on the hot path.
/// </summary>
public static class PresenceJson
{
    /// <summary>Keeps "·" and other non-ASCII text as UTF-8, as the OpenClaw gateway does; still escapes what JSON requires.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>One row's JSON; the buffer and writer are reused per thread, so only the result is allocated.</summary>
    public static byte[] Serialize(PresenceEntry entry)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(512);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        writer.Reset(buffer);
        Write(writer, entry);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(Utf8JsonWriter writer, PresenceEntry entry)
    {
        writer.WriteStartObject();
        WriteIfPresent(writer, "instanceId"u8, entry.InstanceId);
        WriteIfPresent(writer, "host"u8, entry.Host);
        WriteIfPresent(writer, "ip"u8, entry.Ip);
        WriteIfPresent(writer, "version"u8, entry.Version);
        WriteIfPresent(writer, "platform"u8, entry.Platform);
        WriteIfPresent(writer, "deviceFamily"u8, entry.DeviceFamily);
        WriteIfPresent(writer, "modelIdentifier"u8, entry.ModelIdentifier);
        WriteIfPresent(writer, "mode"u8, entry.Mode);
        if (entry.LastInputSeconds is { } lastInput)
            writer.WriteNumber("lastInputSeconds"u8, lastInput);
        WriteIfPresent(writer, "reason"u8, entry.Reason);
        WriteIfPresent(writer, "deviceId"u8, entry.DeviceId);
        WriteIfPresent(writer, "roles"u8, entry.Roles);
        WriteIfPresent(writer, "scopes"u8, entry.Scopes);
        writer.WriteString("text"u8, entry.Text);
        writer.WriteNumber("ts"u8, entry.Ts);
        writer.WriteEndObject();
    }

    private static void WriteIfPresent(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is not null)
            writer.WriteString(name, value);
    }

    private static void WriteIfPresent(Utf8JsonWriter writer, ReadOnlySpan<byte> name, System.Collections.Immutable.ImmutableArray<string> values)
    {
        if (values.IsDefaultOrEmpty)
            return;
        writer.WriteStartArray(name);
        foreach (var value in values)
            writer.WriteStringValue(value);
        writer.WriteEndArray();
    }
}
