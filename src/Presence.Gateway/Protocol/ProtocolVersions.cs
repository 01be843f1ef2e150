namespace Presence.Gateway.Protocol;

/// <summary>The wire protocol versions this gateway speaks and the older ones it still admits.</summary>
internal static class ProtocolVersions
{
    public const int Current = 4;

    /// <summary>Restart probes (<c>client.mode = "probe"</c>) may offer a range reaching down to this.</summary>
    public const int MinimumProbe = 3;

    /// <summary>Nodes (<c>role = mode = "node"</c>) one version behind are admitted.</summary>
    public const int PreviousNode = 3;
}
