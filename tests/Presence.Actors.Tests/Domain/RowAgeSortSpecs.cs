using Presence.Actors.Domain;
using Xunit;

namespace Presence.Actors.Tests.Domain;

/// <summary>
/// The snapshot's newest-first sort packs each row's age into one key when the spans fit, and compares ages when
/// they do not: both must give exactly the order of <see cref="RowAge"/>, ties in <c>ts</c> broken by write order.
/// </summary>
public sealed class RowAgeSortSpecs
{
    [Theory]
    [InlineData(200, 100L, 400L)]                 // a full list in a burst: many rows share a millisecond
    [InlineData(200, 300_000L, 1_000_000L)]       // a TTL's worth of ts, a long-running gateway's write numbers
    [InlineData(1_000, long.MaxValue, 2_000L)]    // a clock that jumped: the keys cannot hold the span
    [InlineData(600, 5_000L, long.MaxValue)]      // write numbers spread beyond any key
    public void Should_order_rows_newest_first_by_ts_then_by_the_later_write(int count, long tsSpread, long writtenSpread)
    {
        var random = new Random(count);
        // Spread evenly over the range, then shuffled: each write has its own number, as in a state.
        var written = Enumerable.Range(0, count).Select(i => i * (writtenSpread / count) - writtenSpread / 2).ToArray();
        random.Shuffle(written);
        var rows = Enumerable.Range(0, count)
            .Select(i => new PresenceRow(new PresenceEntry { Host = $"h{i}", Ts = random.NextInt64(-tsSpread / 2, tsSpread / 2) }, owner: null, written[i]))
            .ToArray();
        var expected = rows.OrderByDescending(row => row.Entry.Ts).ThenByDescending(row => row.Written).ToArray();

        RowAge.SortNewestFirst(rows);

        Assert.Equal(expected.Select(row => row.Entry.Host), rows.Select(row => row.Entry.Host));
    }
}
