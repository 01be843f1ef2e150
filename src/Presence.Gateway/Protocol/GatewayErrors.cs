using System.Text.Json.Nodes;

namespace Presence.Gateway.Protocol;

/// <summary>Top-level <c>ErrorShape.code</c> values.</summary>
internal static class ErrorCodes
{
    public const string InvalidRequest = "INVALID_REQUEST";
    public const string Forbidden = "FORBIDDEN";
    public const string NotPaired = "NOT_PAIRED";
    public const string Unavailable = "UNAVAILABLE";
}

/// <summary>The device-identity checks of §3.2, each with its own message and <c>details.reason</c>.</summary>
internal enum DeviceAuthFailure
{
    DeviceIdMismatch,
    SignatureExpired,
    NonceRequired,
    NonceMismatch,
    SignatureInvalid,
    PublicKeyInvalid,
}

/// <summary>
/// Every error the gateway sends, worded exactly as the real OpenClaw gateway words it (spec §2–§6
/// and the captures). Clients branch on <c>details.code</c>; several of them stop reconnecting on it.
/// </summary>
internal static class GatewayErrors
{

    /// <summary>The backoff the real gateway asks for while it is still starting.</summary>
    public const int StartingRetryAfterMs = 500;

    private static readonly GatewayError InvalidHandshakeError =
        new(ErrorCodes.InvalidRequest, "invalid handshake: first request must be connect");

    private static readonly GatewayError InvalidRoleError = new(ErrorCodes.InvalidRequest, "invalid role");

    private static readonly GatewayError ConnectOnlyFirstError =
        new(ErrorCodes.InvalidRequest, "connect is only valid as the first request");

    public static GatewayError InvalidHandshake() => InvalidHandshakeError;

    /// <summary><paramref name="message"/> is the validator's full text (<c>invalid connect params: …</c>).</summary>
    public static GatewayError InvalidConnectParams(string message) => InvalidRequest(message);

    /// <summary><paramref name="message"/> is the parser's full text (<c>invalid request frame: …</c>).</summary>
    public static GatewayError InvalidRequestFrame(string message) => InvalidRequest(message);

    /// <summary>
    /// <paramref name="message"/> is the validator's full text: <c>invalid system-event params: …</c>,
    /// <c>text required</c> or <c>wake is not supported for node presence events</c>.
    /// </summary>
    public static GatewayError InvalidSystemEventParams(string message) => InvalidRequest(message);

    /// <summary><paramref name="message"/> is the validator's full text (<c>invalid device.pair.list params: …</c>).</summary>
    public static GatewayError InvalidMethodParams(string message) => InvalidRequest(message);

    /// <summary><c>exec.approvals.set</c>: there is nothing to approve on a gateway that runs no commands.</summary>
    public static GatewayError ExecApprovalsNotEditable() =>
        InvalidRequest("exec approvals cannot be changed: this gateway runs no commands");

    public static GatewayError ProtocolMismatch(int clientMinProtocol, int clientMaxProtocol) =>
        new(ErrorCodes.InvalidRequest, "protocol mismatch", new JsonObject
        {
            ["code"] = "PROTOCOL_MISMATCH",
            ["clientMinProtocol"] = clientMinProtocol,
            ["clientMaxProtocol"] = clientMaxProtocol,
            ["expectedProtocol"] = ProtocolVersions.Current,
            ["minimumProbeProtocol"] = ProtocolVersions.MinimumProbe,
        });

    public static GatewayError InvalidRole() => InvalidRoleError;

    /// <summary>
    /// A browser page whose <c>Origin</c> is missing or not allowed; <paramref name="reason"/> says which
    /// (<c>origin missing or invalid</c>, <c>origin not allowed</c>), as the OpenClaw gateway's details do.
    /// </summary>
    public static GatewayError OriginNotAllowed(string reason) =>
        new(
            ErrorCodes.InvalidRequest,
            "origin not allowed (open the Control UI from the gateway host or allow it in gateway.controlUi.allowedOrigins)",
            new JsonObject { ["code"] = "CONTROL_UI_ORIGIN_NOT_ALLOWED", ["reason"] = reason });

    /// <summary>
    /// A wrong shared secret in token mode, whichever field carried it: the real gateway answers a
    /// wrong <c>auth.password</c> with this same token error (capture <c>handshake-wrong-password-field</c>).
    /// </summary>
    public static GatewayError TokenMismatch() =>
        AuthFailure("unauthorized: gateway token mismatch (provide gateway auth token)", "AUTH_TOKEN_MISMATCH", "token_mismatch");

    /// <summary>A wrong shared secret in password mode (not captured; worded after the token case).</summary>
    public static GatewayError PasswordMismatch() =>
        AuthFailure("unauthorized: gateway password mismatch (provide gateway auth password)", "AUTH_PASSWORD_MISMATCH", "password_mismatch");

    /// <summary>No usable credentials and no device identity; deliberately not a token error.</summary>
    public static GatewayError DeviceIdentityRequired() =>
        new(ErrorCodes.NotPaired, "device identity required", new JsonObject { ["code"] = "DEVICE_IDENTITY_REQUIRED" });

    public static GatewayError DeviceAuthFailed(DeviceAuthFailure failure)
    {
        var (message, code, reason) = failure switch
        {
            DeviceAuthFailure.DeviceIdMismatch => ("device identity mismatch", "DEVICE_AUTH_DEVICE_ID_MISMATCH", "device-id-mismatch"),
            DeviceAuthFailure.SignatureExpired => ("device signature expired", "DEVICE_AUTH_SIGNATURE_EXPIRED", "device-signature-stale"),
            DeviceAuthFailure.NonceRequired => ("device nonce required", "DEVICE_AUTH_NONCE_REQUIRED", "device-nonce-missing"),
            DeviceAuthFailure.NonceMismatch => ("device nonce mismatch", "DEVICE_AUTH_NONCE_MISMATCH", "device-nonce-mismatch"),
            DeviceAuthFailure.SignatureInvalid => ("device signature invalid", "DEVICE_AUTH_SIGNATURE_INVALID", "device-signature"),
            DeviceAuthFailure.PublicKeyInvalid => ("device public key invalid", "DEVICE_AUTH_PUBLIC_KEY_INVALID", "device-public-key"),
            _ => throw new ArgumentOutOfRangeException(nameof(failure), failure, null),
        };
        return new(ErrorCodes.InvalidRequest, message, new JsonObject { ["code"] = code, ["reason"] = reason });
    }

    public static GatewayError AuthRateLimited(int retryAfterMs) =>
        new(
            ErrorCodes.InvalidRequest,
            "unauthorized: too many failed authentication attempts (retry later)",
            new JsonObject { ["code"] = "AUTH_RATE_LIMITED" },
            Retryable: true,
            RetryAfterMs: NonNegative(retryAfterMs));

    public static GatewayError MissingScope(string scope) =>
        new(ErrorCodes.Forbidden, $"missing scope: {scope}", new JsonObject
        {
            ["code"] = "MISSING_SCOPE",
            ["missingScope"] = scope,
            ["requiredScopes"] = new JsonArray(scope),
        });

    public static GatewayError UnauthorizedRole(string role) => InvalidRequest($"unauthorized role: {role}");

    public static GatewayError UnknownMethod(string method) => InvalidRequest($"unknown method: {method}");

    public static GatewayError ConnectOnlyFirst() => ConnectOnlyFirstError;

    public static GatewayError GatewayStarting() => Unavailable("gateway starting; retry shortly", StartingRetryAfterMs);

    /// <summary>Transient refusals; the reference client waits <paramref name="retryAfterMs"/> before retrying.</summary>
    public static GatewayError Unavailable(string message, int retryAfterMs) =>
        new(ErrorCodes.Unavailable, message, Retryable: true, RetryAfterMs: NonNegative(retryAfterMs));

    private static GatewayError InvalidRequest(string message) => new(ErrorCodes.InvalidRequest, message);

    private static GatewayError AuthFailure(string message, string detailCode, string authReason) =>
        new(ErrorCodes.InvalidRequest, message, new JsonObject
        {
            ["code"] = detailCode,
            ["authReason"] = authReason,
            ["canRetryWithDeviceToken"] = false,
            ["recommendedNextStep"] = "update_auth_credentials",
        });

    /// <summary>The reference client drops an error whose <c>retryAfterMs</c> is negative, and then times out.</summary>
    private static int NonNegative(int milliseconds) => Math.Max(0, milliseconds);
}
