using System.Text;
using Presence.Actors.Cluster;
using Presence.Actors.Domain;
using Xunit;

namespace Presence.Cluster.Tests.Units;

/// <summary>What a node writes to its key, as pure code: the row codec, the per-row cap and the per-node bound.</summary>
public sealed class ReplicatedRowsSpecs
{
    private static readonly PresenceEntry Full = new()
    {
        InstanceId = "Inst-1",
        Host = "box",
        Ip = "10.0.0.9",
        Version = "1.2",
        Platform = "macos 15.1",
        DeviceFamily = "Mac",
        ModelIdentifier = "Mac15,3",
        Mode = "ui",
        LastInputSeconds = 5,
        Reason = "periodic",
        DeviceId = "dev",
        Roles = ["operator"],
        Scopes = ["operator.read", "operator.admin"],
        Text = "Node: box (10.0.0.9) · \"quoted\"",
        Ts = 1_795_630_000_000,
    };

    [Fact]
    public void Should_read_back_exactly_the_row_it_wrote()
    {
        var json = ReplicatedRows.EncodeRow("inst-1", Full, 2048)!;

        var decoded = ReplicatedRows.Decode(json);

        Assert.True(PresenceMerge.SameApartFromTs(Full, decoded));
        Assert.Equal(Full.Ts, decoded.Ts);
        Assert.Equal(Encoding.UTF8.GetString(PresenceJson.Serialize(Full)), json);
    }

    [Fact]
    public void Should_shorten_an_oversized_row_to_the_cap_text_first_without_splitting_a_surrogate_pair()
    {
        var huge = Full with { Host = new string('h', 5000), Text = string.Concat(Enumerable.Repeat("😀\"", 10_000)) };

        var json = ReplicatedRows.EncodeRow("key", huge, 1024)!;

        Assert.InRange(Encoding.UTF8.GetByteCount(json) + 3, 1, 1024);
        var decoded = ReplicatedRows.Decode(json);
        Assert.Equal(64, decoded.Host!.Length);
        Assert.False(char.IsHighSurrogate(decoded.Text[^1]));
        Assert.StartsWith("😀\"😀", decoded.Text, StringComparison.Ordinal);
        Assert.Equal(("Inst-1", "ui", Full.Ts), (decoded.InstanceId, decoded.Mode, decoded.Ts));
    }

    [Fact]
    public void Should_leave_out_a_row_whose_key_alone_is_over_the_cap()
    {
        Assert.Null(ReplicatedRows.EncodeRow(new string('k', 3000), Full, 2048));
    }

    [Fact]
    public void Should_always_write_the_self_row_then_the_newest_rows_within_the_node_bound()
    {
        var selfJson = ReplicatedRows.EncodeRow(ReplicatedRows.SelfKey, Full, 2048)!;
        var rows = Enumerable.Range(0, 50).Select(i => ($"k{i}", (long)i, (string?)new string('x', 900))).Append(("too-big", 100L, null));

        var encoded = ReplicatedRows.Encode(selfJson, rows, maxNodeBytes: 10_000);

        Assert.Contains(ReplicatedRows.SelfKey, encoded.Rows.Keys);
        Assert.InRange(encoded.Bytes, 1, 10_000);
        // Newest first: k49, k48, ... as many as fit; the rest (and the row that could not be encoded) left out.
        Assert.Equal(encoded.Rows.Count - 1, encoded.Rows.Keys.Count(k => k.StartsWith('k')));
        Assert.Contains("k49", encoded.Rows.Keys);
        Assert.DoesNotContain("k0", encoded.Rows.Keys);
        Assert.Equal(51 - (encoded.Rows.Count - 1), encoded.Left);
    }
}
