using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Xunit;

namespace Presence.Gateway.Tests.Conformance;

/// <summary>Reading and asserting server frames and presence rows.</summary>
internal static class Frames
{
    public static bool IsEvent(JsonObject frame, string name) => (string?)frame["type"] == "event" && (string?)frame["event"] == name;

    /// <summary>The list carried by a <c>presence</c> event.</summary>
    public static JsonArray PresenceList(JsonObject presenceEvent) => Assert.IsType<JsonArray>(presenceEvent["payload"]?["presence"]);

    public static IEnumerable<JsonObject> Rows(JsonArray list) => list.Select(row => Assert.IsType<JsonObject>(row));

    /// <summary>The row whose <c>instanceId</c> equals <paramref name="instanceId"/> ignoring case (keys are case-insensitive), or null.</summary>
    public static JsonObject? RowByInstance(JsonArray list, string instanceId) =>
        Rows(list).FirstOrDefault(row => string.Equals((string?)row["instanceId"], instanceId, StringComparison.OrdinalIgnoreCase));

    public static bool HasInstance(JsonArray list, string instanceId) => RowByInstance(list, instanceId) is not null;

    public static JsonObject SingleRowByInstance(JsonArray list, string instanceId)
    {
        var rows = Rows(list).Where(row => string.Equals((string?)row["instanceId"], instanceId, StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(rows.Count == 1, $"Expected exactly one row for instanceId '{instanceId}', found {rows.Count}: {list.ToJsonString()}");
        return rows[0];
    }

    public static JsonObject? RowByText(JsonArray list, string text) => Rows(list).FirstOrDefault(row => (string?)row["text"] == text);

    /// <summary>Asserts the row is exactly <paramref name="expected"/> apart from <c>ts</c>, which must be a positive integer.</summary>
    public static void AssertRow(JsonObject expected, JsonObject? actual)
    {
        Assert.NotNull(actual);
        var ts = actual["ts"];
        Assert.True(ts is JsonValue value && value.TryGetValue<long>(out var ms) && ms > 0, $"ts must be a positive integer: {actual.ToJsonString()}");
        var withoutTs = actual.DeepClone().AsObject();
        withoutTs.Remove("ts");
        Assert.True(JsonNode.DeepEquals(Sorted(expected), Sorted(withoutTs)), $"Row mismatch.\nExpected: {expected.ToJsonString()}\nActual:   {withoutTs.ToJsonString()}");
    }

    /// <summary>An error response exactly as the capture shows it (id, code, message, and details when given).</summary>
    public static void AssertError(JsonObject response, string id, string code, string message, JsonObject? details = null)
    {
        Assert.Equal("res", (string?)response["type"]);
        Assert.Equal(id, (string?)response["id"]);
        Assert.False(response["ok"]!.GetValue<bool>(), response.ToJsonString());
        var error = Assert.IsType<JsonObject>(response["error"]);
        Assert.Equal(code, (string?)error["code"]);
        Assert.Equal(message, (string?)error["message"]);
        if (details is null)
            Assert.Null(error["details"]);
        else
            Assert.True(JsonNode.DeepEquals(Sorted(details), Sorted(error["details"]!.AsObject())), $"details: expected {details.ToJsonString()}, got {error["details"]?.ToJsonString()}");
    }

    public static void AssertClose(ServerClose close, int code, string reason)
    {
        Assert.True(close.Code == code && close.Reason == reason, $"Expected close {code} \"{reason}\", got {close}");
    }

    public static void AssertClose(ServerClose close, WebSocketCloseStatus status, string reason) => AssertClose(close, (int)status, reason);

    /// <summary>The <c>seq</c> numbers of the events that carry one, in arrival order.</summary>
    public static List<long> Seqs(IEnumerable<JsonObject> frames) =>
        [.. frames.Where(f => (string?)f["type"] == "event" && f["seq"] is not null).Select(f => f["seq"]!.GetValue<long>())];

    /// <summary>Per-connection seq starts at 1 and never skips (nothing is dropped for these readers).</summary>
    public static void AssertContiguousFromOne(IReadOnlyList<long> seqs)
    {
        Assert.NotEmpty(seqs);
        Assert.Equal(Enumerable.Range(1, seqs.Count).Select(i => (long)i), seqs);
    }

    /// <summary>Newest first after the self row (whose ts is refreshed independently).</summary>
    public static void AssertNewestFirst(JsonArray list)
    {
        var ts = Rows(list).Skip(1).Select(row => row["ts"]!.GetValue<long>()).ToList();
        Assert.True(ts.SequenceEqual(ts.OrderByDescending(t => t)), $"Rows are not newest first: {string.Join(",", ts)}");
    }

    public static void AssertSelfFirst(JsonArray list)
    {
        var self = Assert.IsType<JsonObject>(list[0]);
        Assert.Equal("self", (string?)self["reason"]);
        Assert.Equal("gateway", (string?)self["mode"]);
        Assert.Equal(TestGateway.SelfInstanceId, (string?)self["instanceId"]);
    }

    /// <summary>Object members in name order, so that comparisons ignore the order the server wrote them in.</summary>
    private static JsonNode Sorted(JsonNode node) => node switch
    {
        JsonObject obj => new JsonObject(obj.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, p.Value is null ? null : Sorted(p.Value)))),
        JsonArray array => new JsonArray([.. array.Select(item => item is null ? null : Sorted(item))]),
        _ => node.DeepClone(),
    };
}
