using System.Text.Json;
using System.Text.Json.Nodes;
using Presence.Actors.Domain;
using Presence.Gateway.Protocol;
using Xunit;

namespace Presence.Gateway.Tests.Protocol;

public sealed class SystemEventValidatorSpecs
{
    private const string Prefix = "invalid system-event params: ";

    private static readonly string[] StringFields =
        ["deviceId", "instanceId", "host", "ip", "mode", "version", "platform", "deviceFamily", "modelIdentifier", "reason"];

    public static TheoryData<string, string?, string> RejectedEvents()
    {
        var data = new TheoryData<string, string?, string>();
        foreach (var exchange in SystemEvents().Where(e => e.Error?["code"]?.GetValue<string>() == "INVALID_REQUEST"))
            data.Add(exchange.Source, exchange.Request["params"]?.ToJsonString(), exchange.ErrorMessage!);
        return data;
    }

    public static TheoryData<string, string> AcceptedEvents()
    {
        var data = new TheoryData<string, string>();
        foreach (var exchange in SystemEvents().Where(e => e.Response?["ok"]?.GetValue<bool>() == true))
            data.Add(exchange.Source, exchange.Request["params"]!.ToJsonString());
        return data;
    }

    /// <summary>02-18 lists only the responses; the requests are in 02-14 under the same ids.</summary>
    public static TheoryData<string, string?, string> SummarisedErrors()
    {
        var requests = Captures.Exchanges.Where(e => e.Source == "02-14-system-event-null-lastinput.json")
            .ToDictionary(e => e.Request["id"]!.GetValue<string>(), e => e.Request);
        var data = new TheoryData<string, string?, string>();
        foreach (var (scenario, response) in Captures.Load("02-18-system-event-errors.json").AsObject().Where(p => p.Value is JsonObject))
        {
            var request = requests[response!["id"]!.GetValue<string>()];
            data.Add(scenario, request["params"]?.ToJsonString(), response["error"]!["message"]!.GetValue<string>());
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RejectedEvents))]
    [MemberData(nameof(SummarisedErrors))]
    public void Should_reject_system_events_with_the_captured_message(string source, string? parameters, string message)
    {
        Assert.False(SystemEventValidator.TryValidate(Element(parameters), out var beacon, out var error), source);
        Assert.Equal(message, error);
        Assert.Null(beacon);
    }

    [Theory]
    [MemberData(nameof(AcceptedEvents))]
    public void Should_turn_every_accepted_system_event_into_a_beacon_carrying_its_fields(string source, string parameters)
    {
        var sent = JsonNode.Parse(parameters)!.AsObject();

        Assert.True(SystemEventValidator.TryValidate(Element(parameters), out var beacon, out var error), $"{source}: {error}");

        Assert.Equal(sent["text"]!.GetValue<string>().Trim(), beacon!.Text);
        foreach (var field in StringFields)
            Assert.Equal(sent[field]?.GetValue<string>(), Field(beacon, field));
        Assert.Equal(sent["lastInputSeconds"]?.GetValue<long>(), beacon.LastInputSeconds);
        Assert.Equal<string>(Strings(sent["roles"]), beacon.Roles);
        Assert.Equal<string>(Strings(sent["scopes"]), beacon.Scopes);
        Assert.Equal<string>(Strings(sent["tags"]), beacon.Tags);
    }

    [Fact]
    public void Should_cover_the_captured_beacon_variants()
    {
        var sources = AcceptedEvents().Select(row => (string)row[0]).ToHashSet();

        Assert.Superset(
            new HashSet<string>
            {
                "02-07-system-event-structured.json", "02-08-system-event-node-text.json", "02-09-system-event-merge-partial.json",
                "02-10-system-event-clear-last-input.json", "02-11-system-event-deviceid-operator.json",
                "02-12-system-event-deviceid-node.json", "02-13-system-event-free-text.json",
            },
            sources);
    }

    [Fact]
    public void Should_keep_the_clear_tag_and_the_sent_value_so_the_merge_can_drop_it()
    {
        Assert.True(SystemEventValidator.TryValidate(
            Element("""{"text":"probe beacon three","instanceId":"probe-ui-instance-1","lastInputSeconds":5,"tags":["system-presence-clear-last-input"]}"""),
            out var beacon,
            out _));

        Assert.Equal(5, beacon!.LastInputSeconds);
        Assert.Equal<string>([Beacon.ClearLastInputTag], beacon.Tags);
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("42", 42L)]
    [InlineData("1.9", 1L)]
    [InlineData("-0.5", 0L)]
    [InlineData("-5", 0L)]
    [InlineData("1e3", 1000L)]
    [InlineData("1e300", long.MaxValue)]
    [InlineData("1e400", long.MaxValue)]
    [InlineData("-1e400", 0L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void Should_store_last_input_seconds_as_a_non_negative_integer(string number, long expected)
    {
        Assert.True(SystemEventValidator.TryValidate(Element($$"""{"text":"x","lastInputSeconds":{{number}}}"""), out var beacon, out _));

        Assert.Equal(expected, beacon!.LastInputSeconds);
    }

    [Theory]
    [InlineData(null, Prefix + "must have required property 'text'")]
    [InlineData("null", Prefix + "must have required property 'text'")]
    [InlineData("5", Prefix + "must be object")]
    [InlineData("[]", Prefix + "must be object")]
    [InlineData("""{"text":5}""", Prefix + "at /text: must be string")]
    [InlineData("""{"text":"x","wake":"yes"}""", Prefix + "at /wake: must be boolean")]
    [InlineData("""{"text":"x","idempotencyKey":""}""", Prefix + "at /idempotencyKey: must NOT have fewer than 1 characters")]
    [InlineData("""{"text":"x","roles":["a",2]}""", Prefix + "at /roles/1: must be string")]
    [InlineData("""{"text":"x","tags":"t"}""", Prefix + "at /tags: must be array")]
    [InlineData("""{"text":"x","lastInputSeconds":true}""", Prefix + "at /lastInputSeconds: must be number")]
    [InlineData("""{"bogus":1,"host":2}""", Prefix + "must have required property 'text'; at root: unexpected property 'bogus'; at /host: must be string")]
    [InlineData("""{"text":" \t\n "}""", SystemEventValidator.TextRequired)]
    [InlineData("""{"text":"Node: host (1.2.3.4) · app 1 · mode ui · reason launch","wake":true}""", SystemEventValidator.WakeNotSupported)]
    [InlineData("""{"text":"  Node: host","wake":true}""", SystemEventValidator.WakeNotSupported)]
    public void Should_describe_every_violation(string? parameters, string message)
    {
        Assert.False(SystemEventValidator.TryValidate(Element(parameters), out var beacon, out var error));
        Assert.Equal(message, error);
        Assert.Null(beacon);
    }

    [Theory]
    [InlineData("""{"text":"wake the agent","wake":true}""")]
    [InlineData("""{"text":"node: lower case is not a node line","wake":true}""")]
    [InlineData("""{"text":"Node: host","wake":false,"sessionKey":"s","idempotencyKey":"k"}""")]
    public void Should_allow_wake_except_for_node_presence_lines(string parameters)
    {
        Assert.True(SystemEventValidator.TryValidate(Element(parameters), out _, out var error), error);
    }

    private static IEnumerable<Exchange> SystemEvents() => Captures.Exchanges.Where(e => e.Method == "system-event");

    private static JsonElement? Element(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement;

    private static string[] Strings(JsonNode? array) => array?.AsArray().Select(item => item!.GetValue<string>()).ToArray() ?? [];

    private static string? Field(Beacon beacon, string name) => name switch
    {
        "deviceId" => beacon.DeviceId,
        "instanceId" => beacon.InstanceId,
        "host" => beacon.Host,
        "ip" => beacon.Ip,
        "mode" => beacon.Mode,
        "version" => beacon.Version,
        "platform" => beacon.Platform,
        "deviceFamily" => beacon.DeviceFamily,
        "modelIdentifier" => beacon.ModelIdentifier,
        "reason" => beacon.Reason,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };
}
