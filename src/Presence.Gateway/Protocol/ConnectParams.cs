using System.Collections.Immutable;

namespace Presence.Gateway.Protocol;

/// <summary>Validated <c>connect</c> params (a closed object on the wire).</summary>
internal sealed record ConnectParams
{
    public required int MinProtocol { get; init; }
    public required int MaxProtocol { get; init; }
    public required ClientInfo Client { get; init; }

    /// <summary>As sent; <c>operator</c> when absent. Checking it against the allowed roles is the handshake's job.</summary>
    public string Role { get; init; } = "operator";

    public ImmutableArray<string> Scopes { get; init; } = [];
    public AuthParams? Auth { get; init; }
    public DeviceParams? Device { get; init; }
}

internal sealed record ClientInfo
{
    public required string Id { get; init; }
    public required string Version { get; init; }
    public required string Platform { get; init; }
    public required string Mode { get; init; }
    public string? DisplayName { get; init; }
    public string? InstanceId { get; init; }
    public string? DeviceFamily { get; init; }
    public string? ModelIdentifier { get; init; }
    public string? TimeZone { get; init; }
    public string? BuildId { get; init; }
}

internal sealed record AuthParams(string? Token, string? Password)
{
    /// <summary>Part of the device signature payload when no <see cref="Token"/> is sent.</summary>
    public string? DeviceToken { get; init; }

    /// <summary>Part of the device signature payload when neither token is sent.</summary>
    public string? BootstrapToken { get; init; }
}

internal sealed record DeviceParams(string Id, string PublicKey, string Signature, long SignedAt, string Nonce);
