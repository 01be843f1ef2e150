using System.Text.Json.Nodes;

namespace Presence.Gateway.Protocol;

/// <summary>
/// The protocol's <c>ErrorShape</c>: <c>{code, message, details?, retryable?, retryAfterMs?}</c>.
/// Code and message are never empty (the reference client drops errors without them).
/// </summary>
internal sealed record GatewayError(string Code, string Message, JsonObject? Details = null, bool? Retryable = null, int? RetryAfterMs = null);
