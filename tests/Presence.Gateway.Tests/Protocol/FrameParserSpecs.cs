using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Presence.Gateway.Protocol;
using Xunit;

namespace Presence.Gateway.Tests.Protocol;

public sealed class FrameParserSpecs
{
    private const string TruncationMarker = "...(";

    public static TheoryData<string, string, string> RejectedFrames()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var exchange in Captures.Exchanges.Where(e => e.ErrorMessage?.StartsWith("invalid request frame", StringComparison.Ordinal) == true))
            data.Add(exchange.Source, exchange.Request.ToJsonString(), exchange.Response!.ToJsonString());
        return data;
    }

    public static TheoryData<string, string> AnsweredRequests()
    {
        var data = new TheoryData<string, string>();
        foreach (var exchange in Captures.Exchanges.Where(e => e.Response is not null && e.ErrorMessage?.StartsWith("invalid request frame", StringComparison.Ordinal) != true))
            data.Add(exchange.Source, exchange.Request.ToJsonString());
        return data;
    }

    public static TheoryData<string, string> PreHelloFramesClosedAsInvalid()
    {
        var data = new TheoryData<string, string>();
        foreach (var exchange in Captures.ClosedAsInvalidRequestFrame())
            data.Add(exchange.Source, exchange.Request.ToJsonString());
        return data;
    }

    public static TheoryData<string, string> MalformedMessages()
    {
        var data = new TheoryData<string, string>();
        foreach (var (source, raw) in Captures.RawMessages().Where(m => !m.Raw.Contains(TruncationMarker, StringComparison.Ordinal)))
            data.Add(source, raw);
        return data;
    }

    [Theory]
    [MemberData(nameof(RejectedFrames))]
    public void Should_reject_a_frame_with_the_captured_message_and_echoed_id(string source, string request, string response)
    {
        var expected = JsonNode.Parse(response)!;

        var frame = Assert.IsType<InvalidFrame>(FrameParser.Parse(Encoding.UTF8.GetBytes(request)));

        Assert.Equal(expected["error"]!["message"]!.GetValue<string>(), frame.Message);
        Assert.True(JsonNode.DeepEquals(expected["id"], EchoedId(frame)), $"{source}: id {EchoedId(frame)} vs {expected["id"]}");
    }

    [Theory]
    [MemberData(nameof(AnsweredRequests))]
    public void Should_parse_every_request_the_gateway_answered(string source, string request)
    {
        var sent = JsonNode.Parse(request)!;

        var frame = Assert.IsType<RequestFrame>(FrameParser.Parse(Encoding.UTF8.GetBytes(request)));

        Assert.Equal(sent["id"]!.GetValue<string>(), frame.Id);
        Assert.Equal(sent["method"]!.GetValue<string>(), frame.Method);
        Assert.True(JsonNode.DeepEquals(sent["params"], frame.Params is { } p ? JsonNode.Parse(p.GetRawText()) : null), source);
    }

    [Theory]
    [MemberData(nameof(PreHelloFramesClosedAsInvalid))]
    public void Should_reject_the_first_frames_the_gateway_closed_on_as_invalid(string source, string request)
    {
        var frame = FrameParser.Parse(Encoding.UTF8.GetBytes(request));

        Assert.True(frame is InvalidFrame { Message: var message } && message.StartsWith("invalid request frame: ", StringComparison.Ordinal), source);
    }

    [Theory]
    [MemberData(nameof(MalformedMessages))]
    public void Should_report_text_that_is_not_json_as_malformed(string source, string raw)
    {
        Assert.True(FrameParser.Parse(Encoding.UTF8.GetBytes(raw)) is MalformedJsonFrame, source);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("{\"type\":\"req\",\"id\":\"a\",\"method\":\"health\"} trailing")]
    [InlineData("{\"type\":\"req\",\"id\":\"a\",\"method\":\"health\"}{}")]
    [InlineData("{\"type\":\"req\",\"id\":\"\\ud800\",\"method\":\"health\"}")]
    [InlineData("{\"type\":\"req\",\"id\":\"a\",\"method\":\"health\",\"params\":{\"\\udc00x\":1}}")]
    public void Should_report_unusable_text_as_malformed(string text)
    {
        Assert.IsType<MalformedJsonFrame>(FrameParser.Parse(Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void Should_report_invalid_utf8_as_malformed()
    {
        byte[] bytes = [.. "{\"type\":\"req\",\"id\":\""u8, 0xFF, 0xFE, .. "\",\"method\":\"health\"}"u8];

        Assert.IsType<MalformedJsonFrame>(FrameParser.Parse(bytes));
    }

    [Fact]
    public void Should_report_nesting_deeper_than_the_limit_as_malformed()
    {
        var depth = FrameParser.MaxDepth + 1;
        var frame = $"{{\"type\":\"req\",\"id\":\"a\",\"method\":\"health\",\"params\":{new string('[', depth)}{new string(']', depth)}}}";

        Assert.IsType<MalformedJsonFrame>(FrameParser.Parse(Encoding.UTF8.GetBytes(frame)));
    }

    [Fact]
    public void Should_survive_a_million_nested_arrays_without_throwing()
    {
        var frame = new string('[', 1_000_000);

        Assert.IsType<MalformedJsonFrame>(FrameParser.Parse(Encoding.UTF8.GetBytes(frame)));
    }

    [Theory]
    [InlineData("[]", "invalid request frame: must be object", null)]
    [InlineData("null", "invalid request frame: must be object", null)]
    [InlineData("\"req\"", "invalid request frame: must be object", null)]
    [InlineData("{\"type\":\"req\",\"id\":\"\",\"method\":\"health\"}", "invalid request frame: at /id: must NOT have fewer than 1 characters", "")]
    [InlineData("{\"type\":\"req\",\"id\":\"a\",\"method\":\"\"}", "invalid request frame: at /method: must NOT have fewer than 1 characters", "a")]
    [InlineData("{\"type\":5,\"id\":\"a\",\"method\":\"health\"}", "invalid request frame: at /type: must be string; at /type: must be equal to constant", "a")]
    [InlineData("{\"id\":\"a\",\"method\":\"health\"}", "invalid request frame: must have required property 'type'", "a")]
    [InlineData("{\"type\":\"req\",\"id\":null,\"method\":\"health\"}", "invalid request frame: at /id: must be string", null)]
    [InlineData("{\"type\":\"req\",\"id\":\"a\",\"method\":[\"health\"]}", "invalid request frame: at /method: must be string", "a")]
    [InlineData("{\"type\":\"req\",\"id\":\"a\",\"method\":\"health\",\"traceparent\":7}", "invalid request frame: at /traceparent: must be string", "a")]
    [InlineData("{\"type\":\"cancel\",\"id\":\"a\"}", "invalid request frame: must have required property 'method'; at /type: must be equal to constant", "a")]
    public void Should_describe_every_violation_of_the_request_frame(string text, string message, string? id)
    {
        var frame = Assert.IsType<InvalidFrame>(FrameParser.Parse(Encoding.UTF8.GetBytes(text)));

        Assert.Equal(message, frame.Message);
        Assert.Equal(id, frame.Id);
    }

    [Fact]
    public void Should_echo_a_non_string_id_verbatim()
    {
        var frame = Assert.IsType<InvalidFrame>(FrameParser.Parse("{\"type\":\"req\",\"id\":{\"n\":[1,2]},\"method\":\"health\"}"u8));

        Assert.Null(frame.Id);
        Assert.Equal("{\"n\":[1,2]}", frame.RawId!.Value.GetRawText());
    }

    [Theory]
    [InlineData(FrameParser.MaxTraceparentLength, true)]
    [InlineData(FrameParser.MaxTraceparentLength + 1, false)]
    public void Should_limit_traceparent_to_128_characters(int length, bool accepted)
    {
        var text = $"{{\"type\":\"req\",\"id\":\"a\",\"method\":\"health\",\"traceparent\":\"{new string('0', length)}\"}}";

        var frame = FrameParser.Parse(Encoding.UTF8.GetBytes(text));

        if (accepted)
            Assert.IsType<RequestFrame>(frame);
        else
            Assert.Equal("invalid request frame: at /traceparent: must NOT have more than 128 characters", Assert.IsType<InvalidFrame>(frame).Message);
    }

    [Fact]
    public void Should_keep_params_readable_after_the_input_buffer_is_reused()
    {
        var buffer = Encoding.UTF8.GetBytes("{\"type\":\"req\",\"id\":\"a\",\"method\":\"system-event\",\"params\":{\"text\":\"hello\"}}");

        var frame = Assert.IsType<RequestFrame>(FrameParser.Parse(buffer));
        Array.Fill(buffer, (byte)'x');

        Assert.Equal("hello", frame.Params!.Value.GetProperty("text").GetString());
    }

    [Fact]
    public void Should_tell_absent_params_from_null_params()
    {
        var absent = Assert.IsType<RequestFrame>(FrameParser.Parse("{\"type\":\"req\",\"id\":\"a\",\"method\":\"health\"}"u8));
        var explicitNull = Assert.IsType<RequestFrame>(FrameParser.Parse("{\"type\":\"req\",\"id\":\"a\",\"method\":\"health\",\"params\":null}"u8));

        Assert.Null(absent.Params);
        Assert.Equal(JsonValueKind.Null, explicitNull.Params!.Value.ValueKind);
    }

    [Fact]
    public void Should_read_the_last_of_duplicate_properties_like_javascript()
    {
        var frame = Assert.IsType<RequestFrame>(FrameParser.Parse("{\"type\":\"req\",\"id\":\"a\",\"method\":\"x\",\"method\":\"health\"}"u8));

        Assert.Equal("health", frame.Method);
    }

    private static JsonNode? EchoedId(InvalidFrame frame) =>
        frame.Id is { } id ? JsonValue.Create(id)
        : frame.RawId is { } raw ? JsonNode.Parse(raw.GetRawText())
        : JsonValue.Create("invalid");
}
