using System.Buffers;
using System.Text.Json;
using Presence.Actors.Domain;
using static Presence.Actors.PresenceManager.PresenceQueries;

namespace Presence.Gateway.Protocol;

/// <summary>
/// <c>presence-gateway.instances</c>: this gateway's own read for operator views (its Instances page and
/// <c>instances</c>), beside <c>system-presence</c>, whose entries are the protocol's closed object and so cannot
/// carry a row's presence key or the node that owns it. Payload:
/// <c>{"rows":[{"key","node","ts","instanceId","text"}],"nodes":[{"address","status","reachable"}]}</c>, one row per
/// entry of the current list (<c>key</c> absent for a gateway's own row, <c>instanceId</c> and <c>text</c> when the entry has them, to pair a row with its entry),
/// and the cluster's members (a gateway alone: itself, up). Same scope as <c>system-presence</c>; params as
/// OpenClaw's read methods take them: none, or the empty object.
/// </summary>
internal static class InstancesMethod
{
    public const string Name = "presence-gateway.instances";

    public static ReadOnlyMemory<byte> Payload(GetPresenceOriginsResponse response)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + 96 * response.Rows.Length);
        using (var writer = new Utf8JsonWriter(buffer, PresenceJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("rows"u8);
            foreach (var row in response.Rows)
            {
                writer.WriteStartObject();
                if (row.Key is { } key)
                    writer.WriteString("key"u8, key.Value);
                writer.WriteString("node"u8, row.Node);
                writer.WriteNumber("ts"u8, row.Ts);
                if (row.InstanceId is { } instanceId)
                    writer.WriteString("instanceId"u8, instanceId);
                if (row.Text is { } text)
                    writer.WriteString("text"u8, text);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteStartArray("nodes"u8);
            foreach (var node in response.Nodes)
            {
                writer.WriteStartObject();
                writer.WriteString("address"u8, node.Address);
                writer.WriteString("status"u8, node.Status);
                writer.WriteBoolean("reachable"u8, node.Reachable);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return buffer.WrittenMemory;
    }
}
