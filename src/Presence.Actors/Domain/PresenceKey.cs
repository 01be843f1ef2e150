namespace Presence.Actors.Domain;

/// <summary>
/// The key of a presence row: trimmed and lower-cased, so that keys are
/// case-insensitive. Build one only through the factory methods.
/// </summary>
public readonly record struct PresenceKey
{
    private PresenceKey(string value) => Value = value;

    public string Value { get; }

    public static PresenceKey From(string raw)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(raw);
        return new PresenceKey(raw.Trim().ToLowerInvariant());
    }

    /// <summary>
    /// Key of a connection's row: a stable id when the client sends one (a node's
    /// device id first), else the connection id, which makes a reconnect without a
    /// stable id an expected duplicate row.
    /// </summary>
    public static PresenceKey ForConnection(ConnectionId connection, bool isNode, string? deviceId, string? instanceId)
    {
        var stable = isNode ? FirstNonBlank(deviceId, instanceId) : FirstNonBlank(instanceId);
        return From(stable ?? connection.Value);
    }

    public override string ToString() => Value;

    internal static string? FirstNonBlank(params ReadOnlySpan<string?> candidates)
    {
        foreach (var candidate in candidates)
        {
            if (!string.IsNullOrWhiteSpace(candidate))
                return candidate;
        }
        return null;
    }
}

/// <summary>Identifies one WebSocket connection for the lifetime of its socket.</summary>
public readonly record struct ConnectionId(string Value)
{
    public static ConnectionId New() => new(Guid.NewGuid().ToString());

    public override string ToString() => Value;
}
