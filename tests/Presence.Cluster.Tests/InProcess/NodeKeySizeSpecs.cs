using System.Collections.Immutable;
using Akka.Actor;
using Akka.DistributedData;
using Akka.Serialization;
using Akka.TestKit.Xunit2;
using Presence.Actors.Cluster;
using Presence.Actors.Domain;
using Presence.Cluster.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Presence.Cluster.Tests.InProcess;

/// <summary>Size safety: a node filled with maximum-size rows still writes a key that fits in one Akka.Remote frame, serialised compactly.</summary>
public sealed class NodeKeySizeSpecs : TestKit, IAsyncLifetime
{
    private readonly ITestOutputHelper _output;
    private ImmutableArray<ClusterNode> _nodes = [];

    public NodeKeySizeSpecs(ITestOutputHelper output) => _output = output;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
            await node.DisposeAsync();
    }

    /// <summary>The largest row a client can cause: every field long, text far past any cap, escapes that double its JSON, and a long key.</summary>
    public static PresenceUpdate MaximumRow(int i) => new()
    {
        InstanceId = NoisyText(i + 'i', 1000),
        Host = NoisyText(i + 'h', 1000),
        Ip = NoisyText(i + '1', 1000),
        Version = NoisyText(i + 'v', 1000),
        Platform = NoisyText(i + 'p', 1000),
        DeviceFamily = NoisyText(i + 'd', 1000),
        ModelIdentifier = NoisyText(i + 'm', 1000),
        Mode = NoisyText(i + 'o', 1000),
        LastInputSeconds = long.MaxValue,
        Reason = NoisyText(i + 'r', 1000),
        DeviceId = NoisyText(i + 'x', 1000),
        Roles = [.. Enumerable.Range(0, 100).Select(r => NoisyText(i + r, 200))],
        Scopes = [.. Enumerable.Range(0, 100).Select(s => NoisyText(i - s, 200))],
        Text = NoisyText(i, 20_000),
    };

    /// <summary>Text that compresses badly and escapes long (quotes, control characters, non-ASCII), so no serializer can make it look small.</summary>
    private static string NoisyText(int seed, int length)
    {
        const string Alphabet = "\"\u0001·abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        var random = new Random(seed);
        return string.Create(length, random, (chars, r) =>
        {
            for (var c = 0; c < chars.Length; c++)
                chars[c] = Alphabet[r.Next(Alphabet.Length)];
        });
    }

    [Fact]
    public async Task Should_keep_a_node_full_of_maximum_size_rows_below_the_frame_limit_and_replicate_what_fits()
    {
        _nodes = await ClusterNode.StartClusterAsync(count: 2, hocon: "presence.max-entries = 300");
        var (a, b) = (_nodes[0], _nodes[1]);
        for (var i = 0; i < 300; i++)
            a.Upsert($"{new string('k', 400)}-{i}", MaximumRow(i));

        var key = PresenceReplicatorActor.KeyOf(a.Cluster.SelfUniqueAddress);
        LWWDictionary<string, string>? written = null;
        await AwaitAssertAsync(async () =>
        {
            var got = await DistributedData.Get(a.System).Replicator.Ask<IGetResponse>(Dsl.Get(key, ReadLocal.Instance), TimeSpan.FromSeconds(3));
            written = Assert.IsType<GetSuccess>(got).Get(key);
            // The self row and as many of the newest rows as the bound allows, never all 300.
            Assert.InRange(written.Count, 20, 299);
        }, TimeSpan.FromSeconds(10));

        var serializer = a.System.Serialization.FindSerializerFor(written!);
        var bytes = serializer.ToBinary(written!);
        Assert.InRange(bytes.Length, 1, PresenceClusterSettings.FrameLimitBytes - 8_000);
        // Compact: the values travel as plain strings, never through the Newtonsoft fallback serializer.
        Assert.IsNotType<NewtonSoftJsonSerializer>(serializer);
        Assert.IsNotType<NewtonSoftJsonSerializer>(a.System.Serialization.FindSerializerForType(typeof(string)));
        // The budget's per-entry estimate holds against Akka's own serializer.
        var payload = written!.Sum(row => ReplicatedRows.Cost(row.Key, row.Value) - ReplicatedRows.EntryOverheadBytes);
        Assert.True(bytes.Length <= payload + (written!.Count * ReplicatedRows.EntryOverheadBytes), $"{bytes.Length} bytes for {written!.Count} rows of {payload} bytes");
        Assert.All(written!, row => Assert.True(ReplicatedRows.Cost(row.Key, row.Value) - ReplicatedRows.EntryOverheadBytes <= 2048));

        // The other node gets exactly what was written, and the writer keeps every row in its own view.
        await AwaitAssertAsync(async () => Assert.Equal(written!.Count - 1 + 2, (await b.PresenceAsync()).Entries.Length), TimeSpan.FromSeconds(10));
        Assert.Equal(300, (await a.PresenceAsync()).Entries.Length);
        _output.WriteLine($"node key: {written!.Count} rows, {bytes.Length} bytes serialised");
    }
}
