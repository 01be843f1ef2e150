using System.Collections.Immutable;
using System.Text;
using System.Text.Json;

namespace Presence.Gateway.Protocol;

/// <summary>
/// The methods OpenClaw's Control UI calls on its Devices page besides <c>system-presence</c> and <c>config.get</c>,
/// answered for what this gateway is: it pairs no devices (clients prove the shared secret, or nothing on loopback,
/// and get no device token), commands no nodes, and runs no commands, so it keeps no exec approvals.
/// Shapes and scopes are those of the <c>openclaw</c> package's protocol schemas and method table; every one
/// takes the closed empty object as params, as there.
/// </summary>
internal static class DeviceMethods
{
    public const string PairList = "device.pair.list";
    public const string NodeList = "node.list";
    public const string ExecApprovalsGet = "exec.approvals.get";
    public const string ExecApprovalsSet = "exec.approvals.set";

    public static readonly ImmutableArray<string> Names = [PairList, NodeList, ExecApprovalsGet, ExecApprovalsSet];

    /// <summary>Nothing pending, nothing paired.</summary>
    private static readonly ReadOnlyMemory<byte> NoPairings = "{\"pending\":[],\"paired\":[]}"u8.ToArray();

    /// <summary>
    /// OpenClaw's snapshot of an approvals store that does not exist (its hash for a missing file is
    /// <c>missing:</c> + SHA-256 of nothing), with the fail-closed policy that describes this gateway: every exec denied.
    /// </summary>
    private static readonly ReadOnlyMemory<byte> NoExecApprovals = Encoding.UTF8.GetBytes(
        "{\"path\":\"none: this gateway runs no commands\",\"exists\":false," +
        "\"hash\":\"missing:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"," +
        "\"file\":{\"version\":1,\"agents\":{}}," +
        "\"resolvedDefaults\":{\"security\":\"deny\",\"ask\":\"off\",\"askFallback\":\"deny\",\"autoAllowSkills\":false}}");

    /// <summary>The scope a caller needs (from OpenClaw's method table), or null when the method is not one of these.</summary>
    public static string? RequiredScope(string method) => method switch
    {
        PairList => Scopes.Pairing,
        NodeList => Scopes.Read,
        ExecApprovalsGet or ExecApprovalsSet => Scopes.Admin,
        _ => null,
    };

    /// <summary>
    /// The answer to one of <see cref="Names"/> from a caller holding its scope: null with the payload, or the error
    /// (params other than <c>{}</c>; any change to exec approvals). <paramref name="now"/> stamps <c>node.list</c>.
    /// </summary>
    public static GatewayError? Answer(string method, JsonElement? parameters, long now, out ReadOnlyMemory<byte> payload)
    {
        payload = default;
        if (method == ExecApprovalsSet)
            return GatewayErrors.ExecApprovalsNotEditable();
        if (InvalidParams(method, parameters) is { } invalid)
            return GatewayErrors.InvalidMethodParams(invalid);
        payload = method switch
        {
            PairList => NoPairings,
            NodeList => Encoding.UTF8.GetBytes($"{{\"ts\":{now},\"nodes\":[]}}"),
            ExecApprovalsGet => NoExecApprovals,
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, "not a device method"),
        };
        return null;
    }

    /// <summary>Absent or null params are read as <c>{}</c>; anything else must be an object without properties (also for <see cref="InstancesMethod"/>).</summary>
    public static string? InvalidParams(string method, JsonElement? parameters)
    {
        if (parameters is not { ValueKind: not JsonValueKind.Null } root)
            return null;
        var errors = new SchemaErrors();
        SchemaChecks.ClosedObject(root, "", [], [], errors);
        return errors.Any ? errors.Format($"invalid {method} params: ") : null;
    }
}
