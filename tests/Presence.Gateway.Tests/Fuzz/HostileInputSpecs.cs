using System.Diagnostics;
using System.Text.Json;
using Presence.Actors.Domain;
using Presence.Gateway.Protocol;
using Xunit;

namespace Presence.Gateway.Tests.Fuzz;

/// <summary>
/// Inputs found while fuzzing the frame path (fuzz/Presence.Fuzz; see docs/reliability.md, "Fuzzing")
/// that threw nothing but cost far more than their size: each must stay an ordinary, fast case.
/// The time bounds are loose on purpose (a loaded CI machine), yet far below what the slow
/// versions took: they fail on a quadratic merge or a backtracking stall, not on a slow runner.
/// </summary>
public sealed class HostileInputSpecs
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Two beacons for one row, each with 50,000 distinct roles (about 0.5 MiB per frame, far under
    /// <c>gateway.max-payload</c>): the role union scanned the list once per added role, so the second
    /// merge took about 16 s at 40,000 roles and grew with the square of the count.
    /// </summary>
    [Fact]
    public void Should_merge_beacons_with_tens_of_thousands_of_roles_in_linear_time()
    {
        var state = PresenceState.Create(
            SelfEntry.Create("gw", "192.0.2.1", "0.0.0", "linux", "Linux", "self", now: 0), new PresenceLimits(TtlMs: 300_000, MaxEntries: 200));
        var clock = Stopwatch.StartNew();

        foreach (var prefix in new[] { "a", "b" })
        {
            var frame = FrameParser.Parse(SystemEvent(prefix, roles: 50_000));
            var request = Assert.IsType<RequestFrame>(frame);
            Assert.True(SystemEventValidator.TryValidate(request.Params, out var beacon, out var error), error);
            var (key, update) = beacon!.Resolve();
            state = state.Upsert(key, update, now: 1);
        }

        var row = state.Find(PresenceKey.From("same-row"));
        Assert.NotNull(row);
        Assert.Equal(row.Roles.Length, row.Roles.Distinct(StringComparer.Ordinal).Count());
        Assert.False(state.ToSnapshot().Json.IsEmpty);
        Assert.True(clock.Elapsed < Bound, $"two merges took {clock.Elapsed}");
    }

    /// <summary>
    /// A beacon text of one million characters that is nothing but "Node:" repeated: every
    /// occurrence starts a match attempt that scans to the end, which made the backtracking beacon
    /// pattern quadratic (it gave up only at its 100 ms timeout). It must parse as free text,
    /// keyed by its first 64 characters, promptly.
    /// </summary>
    [Fact]
    public void Should_treat_a_megabyte_of_repeated_node_prefixes_as_free_text_promptly()
    {
        var text = string.Concat(Enumerable.Repeat("Node:", 200_000));
        var clock = Stopwatch.StartNew();

        var (key, update) = new Beacon { Text = text }.Resolve();

        Assert.True(clock.Elapsed < Bound, $"resolving took {clock.Elapsed}");
        Assert.Null(BeaconText.Parse(text));
        Assert.Equal(text[..Beacon.FreeTextKeyLength].ToLowerInvariant(), key.Value);
        Assert.Null(update.Host);
    }

    private static byte[] SystemEvent(string rolePrefix, int roles)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "req");
            writer.WriteString("id", "fuzz-" + rolePrefix);
            writer.WriteString("method", "system-event");
            writer.WriteStartObject("params");
            writer.WriteString("text", "many roles");
            writer.WriteString("instanceId", "same-row");
            writer.WriteStartArray("roles");
            for (var i = 0; i < roles; i++)
                writer.WriteStringValue(rolePrefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
