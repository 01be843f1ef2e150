using System.Globalization;
using System.Text.Json;

namespace Presence.LoadTest;

/// <summary>The request params the tool sends, shaped like real clients' (a macOS beacon is the model for system-event).</summary>
internal static class Frames
{
    public static void WriteConnect(Utf8JsonWriter writer, Identity identity, int index)
    {
        writer.WriteStartObject();
        writer.WriteNumber("minProtocol"u8, 4);
        writer.WriteNumber("maxProtocol"u8, 4);
        writer.WriteStartObject("client"u8);
        writer.WriteString("id"u8, identity.Tracked ? "test" : "cli");
        writer.WriteString("version"u8, "loadtest");
        writer.WriteString("platform"u8, "linux");
        writer.WriteString("mode"u8, identity.Tracked ? "ui" : "cli");
        if (identity.Tracked)
            writer.WriteString("instanceId"u8, InstanceId(index));
        writer.WriteEndObject();
        writer.WriteStartArray("caps"u8);
        writer.WriteEndArray();
        writer.WriteString("role"u8, "operator");
        writer.WriteStartArray("scopes"u8);
        writer.WriteStringValue(identity.Scope);
        writer.WriteEndArray();
        if (LoadSettings.Token is { } token)
        {
            writer.WriteStartObject("auth"u8);
            writer.WriteString("token"u8, token);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }

    /// <summary>The instanceId a tracked client connects with: its beacons with the same id update its connect row.</summary>
    public static string InstanceId(int index) => "lt-conn-" + index.ToString("D5", CultureInfo.InvariantCulture);

    /// <summary>
    /// A beacon for row <paramref name="instanceId"/>; about 330 bytes once stored, so
    /// that 200 rows make a list of the size the reference measured (56 KB per event).
    /// <paramref name="text"/> replaces the usual periodic text (the fan-out marker goes there).
    /// </summary>
    public static Action<Utf8JsonWriter> Beacon(string instanceId, int host, long lastInput, string? text = null) => writer =>
    {
        var hostName = "lt-host-" + host.ToString("D5", CultureInfo.InvariantCulture);
        var ip = string.Create(CultureInfo.InvariantCulture, $"10.0.{host / 250}.{(host % 250) + 1}");
        writer.WriteStartObject();
        writer.WriteString("text"u8, text ?? $"Node: {hostName} ({ip}) · app 2026.9.6 · mode ui · reason periodic");
        writer.WriteString("instanceId"u8, instanceId);
        writer.WriteString("host"u8, hostName);
        writer.WriteString("ip"u8, ip);
        writer.WriteString("version"u8, "2026.9.6");
        writer.WriteString("platform"u8, "macos 15.1");
        writer.WriteString("deviceFamily"u8, "Mac");
        writer.WriteString("modelIdentifier"u8, "Mac15,3");
        writer.WriteString("mode"u8, "ui");
        writer.WriteString("reason"u8, "periodic");
        writer.WriteNumber("lastInputSeconds"u8, lastInput);
        writer.WriteStartArray("roles"u8);
        writer.WriteStringValue("operator");
        writer.WriteEndArray();
        writer.WriteStartArray("scopes"u8);
        writer.WriteStringValue("operator.admin");
        writer.WriteEndArray();
        writer.WriteEndObject();
    };

    public static void WriteEmptyObject(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteEndObject();
    }
}

/// <summary>Settings every client shares, fixed once at start-up.</summary>
internal static class LoadSettings
{
    /// <summary>The shared secret, when the gateway runs with <c>--auth token</c>.</summary>
    public static string? Token { get; set; }
}
