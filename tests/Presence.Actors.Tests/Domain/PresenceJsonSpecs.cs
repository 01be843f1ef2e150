using System.Text;
using System.Text.Json;
using Presence.Actors.Domain;
using Presence.Actors.Tests.TestSupport;
using Xunit;

namespace Presence.Actors.Tests.Domain;

public sealed class PresenceJsonSpecs
{
    private static readonly byte[] MiddleDotUtf8 = [0xC2, 0xB7];

    [Fact]
    public void Should_write_only_text_and_ts_for_an_entry_without_other_fields()
    {
        var json = PresenceJson.Serialize(new PresenceEntry { Text = "hello", Ts = 42 });

        Assert.Equal("{\"text\":\"hello\",\"ts\":42}", Encoding.UTF8.GetString(json));
    }

    [Fact]
    public void Should_write_every_present_field_under_its_wire_name()
    {
        var entry = TestEntries.State()
            .Apply(Beacons.Structured() with { DeviceId = "dev-1" }, TestEntries.T0)
            .Row("dev-1");

        using var document = JsonDocument.Parse(PresenceJson.Serialize(entry));
        var names = document.RootElement.EnumerateObject().Select(property => property.Name).ToArray();

        Assert.Equal(
            ["instanceId", "host", "ip", "version", "platform", "deviceFamily", "modelIdentifier", "mode", "lastInputSeconds", "reason", "deviceId", "roles", "scopes", "text", "ts"],
            names);
        Assert.Equal(42, document.RootElement.GetProperty("lastInputSeconds").GetInt64());
        Assert.Equal(TestEntries.T0, document.RootElement.GetProperty("ts").GetInt64());
        Assert.Equal("operator", document.RootElement.GetProperty("roles")[0].GetString());
    }

    [Fact]
    public void Should_keep_the_middle_dot_as_raw_utf8()
    {
        var json = PresenceJson.Serialize(TestEntries.Self());

        Assert.True(json.AsSpan().IndexOf(MiddleDotUtf8) >= 0);
        Assert.DoesNotContain("\\u00B7", Encoding.UTF8.GetString(json), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Should_still_escape_what_json_requires()
    {
        var text = "say \"hi\"\\\n\u0001";
        var json = PresenceJson.Serialize(new PresenceEntry { Text = text, Ts = 1 });

        using var document = JsonDocument.Parse(json);
        Assert.Equal(text, document.RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public void Should_write_a_snapshot_as_an_array_of_its_rows_in_order()
    {
        var snapshot = TestEntries.State()
            .Apply(Beacons.Text(Beacons.NodeText), TestEntries.T0 + 1)
            .Apply(Beacons.Text(Beacons.FreeText), TestEntries.T0 + 2)
            .ToSnapshot();

        using var document = JsonDocument.Parse(snapshot.Json);
        var texts = document.RootElement.EnumerateArray().Select(row => row.GetProperty("text").GetString()).ToArray();

        Assert.Equal(snapshot.Entries.Select(entry => entry.Text).ToArray(), texts);
        Assert.Equal(3, texts.Length);
    }

    [Fact]
    public void Should_write_the_self_row_alone_as_a_one_element_array()
    {
        var snapshot = TestEntries.State().ToSnapshot();

        Assert.Equal("[" + Encoding.UTF8.GetString(PresenceJson.Serialize(TestEntries.Self())) + "]", Encoding.UTF8.GetString(snapshot.Json.Span));
    }
}
