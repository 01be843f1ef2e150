using System.Net.WebSockets;
using Presence.Actors.Domain;
using Presence.Gateway.Auth;
using Presence.Gateway.Protocol;

namespace Presence.Gateway.Connections;

/// <summary>What the gateway does with a <c>connect</c>: admit it, or answer an error and close.</summary>
internal abstract record ConnectDecision
{
    public sealed record Admit : ConnectDecision
    {
        public static readonly Admit Instance = new();
    }

    /// <summary>
    /// The error to answer and the close to follow it. <c>AuthFailed</c>: a missing or wrong secret, which
    /// counts against the address's failed logins; <c>MetricReason</c>: the handshake metric's reason (the error's code when null).
    /// </summary>
    public sealed record Reject(GatewayError Error, WebSocketCloseStatus Close, string CloseReason, bool AuthFailed = false, string? MetricReason = null) : ConnectDecision;
}

/// <summary>
/// The rules a <c>connect</c> must pass, in the order the OpenClaw gateway checks them (protocol
/// range, role, browser origin, failed-login rate limit, shared secret): the first failure decides.
/// A pure function of the request, the connection and the settings, so every rule has its own spec.
/// </summary>
internal static class ConnectPolicy
{
    /// <summary>The first rule <paramref name="parameters"/> breaks decides; <paramref name="authRetryAfterMs"/> is set when the address has used up its failed logins.</summary>
    public static ConnectDecision Decide(ConnectParams parameters, PeerInfo connection, GatewaySettings settings, int? authRetryAfterMs)
    {
        if (!ProtocolAccepted(parameters))
        {
            return new ConnectDecision.Reject(
                GatewayErrors.ProtocolMismatch(parameters.MinProtocol, parameters.MaxProtocol), WebSocketCloseStatus.ProtocolError, "protocol mismatch", MetricReason: "protocol_mismatch");
        }
        if (parameters.Role is not ("operator" or ConnectedClient.NodeRole))
            return Reject(GatewayErrors.InvalidRole());
        if (BrowserOriginPolicy.Refusal(connection.Browser, parameters.Client.Id, settings.AllowedOrigins) is { } originRefusal)
            return Reject(GatewayErrors.OriginNotAllowed(originRefusal));
        if (settings.Auth == AuthMode.None)
            return ConnectDecision.Admit.Instance;
        if (authRetryAfterMs is { } retryAfterMs)
            return Reject(GatewayErrors.AuthRateLimited(retryAfterMs));
        return AuthFailure(parameters, settings) is { } failure
            ? Reject(failure) with { AuthFailed = true }
            : ConnectDecision.Admit.Instance;
    }

    private static ConnectDecision.Reject Reject(GatewayError error) => new(error, WebSocketCloseStatus.PolicyViolation, error.Message);

    /// <summary>Protocol 4, plus the probe window (3..4) and the node N-1 window (3).</summary>
    private static bool ProtocolAccepted(ConnectParams parameters)
    {
        var (min, max) = (parameters.MinProtocol, parameters.MaxProtocol);
        if (min <= ProtocolVersions.Current && ProtocolVersions.Current <= max)
            return true;
        if (parameters.Client.Mode == "probe" && max >= ProtocolVersions.MinimumProbe && min <= ProtocolVersions.Current)
            return true;
        return parameters.Role == ConnectedClient.NodeRole && parameters.Client.Mode == "node"
            && min <= ProtocolVersions.PreviousNode && ProtocolVersions.PreviousNode <= max;
    }

    private static GatewayError? AuthFailure(ConnectParams parameters, GatewaySettings settings)
    {
        var (token, password) = (parameters.Auth?.Token, parameters.Auth?.Password);
        if (string.IsNullOrEmpty(token) && string.IsNullOrEmpty(password))
            return GatewayErrors.DeviceIdentityRequired();
        // Both fields are checked every time (no short circuit), so timing does not tell which one held the secret.
        var matched = settings.Secret!.Matches(token) | settings.Secret.Matches(password);
        if (matched)
            return null;
        return settings.Auth == AuthMode.Token ? GatewayErrors.TokenMismatch() : GatewayErrors.PasswordMismatch();
    }
}
