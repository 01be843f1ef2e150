using System.Text.Json;

namespace Presence.Gateway.Protocol;

/// <summary>Writes an <c>ErrorShape</c> object; optional members are omitted, never written as <c>null</c>.</summary>
internal static class ErrorJson
{
    public static void Write(Utf8JsonWriter writer, GatewayError error)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(error);

        writer.WriteStartObject();
        writer.WriteString("code"u8, error.Code);
        writer.WriteString("message"u8, error.Message);
        if (error.Details is { } details)
        {
            writer.WritePropertyName("details"u8);
            details.WriteTo(writer);
        }

        if (error.Retryable is { } retryable)
            writer.WriteBoolean("retryable"u8, retryable);
        if (error.RetryAfterMs is { } retryAfterMs)
            writer.WriteNumber("retryAfterMs"u8, retryAfterMs);
        writer.WriteEndObject();
    }
}
