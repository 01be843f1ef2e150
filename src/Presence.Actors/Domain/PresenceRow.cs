using System.Buffers;
using System.Numerics;

namespace Presence.Actors.Domain;

/// <summary>
/// A stored row: the entry, the connection that owns it (if any), and its JSON,
/// serialised at most once however many snapshots and recipients share it.
/// </summary>
internal sealed class PresenceRow(PresenceEntry entry, ConnectionId? owner, long written = 0)
{
    private byte[]? _json;

    public PresenceEntry Entry { get; } = entry;

    /// <summary>The connection whose close may mark this row disconnected; beacons keep it.</summary>
    public ConnectionId? Owner { get; } = owner;

    /// <summary>Where this write falls among the writes of its <see cref="PresenceState"/>: orders rows of the same <c>ts</c>.</summary>
    public long Written { get; } = written;

    public RowAge Age => new(Entry.Ts, Written);

    // A benign race: two readers may both serialise, and both get identical bytes.
    public byte[] Json => _json ??= PresenceJson.Serialize(Entry);
}

/// <summary>
/// Orders rows oldest first: by <c>ts</c>, then in the order they were written, so that rows stamped in the same
/// millisecond (a burst, or virtual time) are evicted and listed in one order whatever the map's hashing does.
/// </summary>
internal readonly record struct RowAge(long Ts, long Written) : IComparable<RowAge>
{
    /// <summary>The reverse order, for sorting newest first.</summary>
    public RowAge Reversed => new(-Ts, -Written);

    public int CompareTo(RowAge other) => Ts != other.Ts ? Ts.CompareTo(other.Ts) : Written.CompareTo(other.Written);

    private const int KeysOnStack = 512;

    /// <summary>
    /// Sorts <paramref name="rows"/> newest first. Every announcement sorts up to the whole bound, so the rows are
    /// sorted as packed 64-bit keys (<c>ts</c> and write number, each relative to the smallest, then the row's index):
    /// a sort of plain longs, then one pass to place the rows, instead of comparing ages and moving references in
    /// two arrays (four to five times the time at 200 rows). Ages whose spans do not fit in one key (a clock that jumped
    /// years, or a bound in the millions) take the comparison sort; both give the same order.
    /// </summary>
    public static void SortNewestFirst(Span<PresenceRow> rows) => SortNewestFirst(rows, static row => row);

    /// <summary>Sorts <paramref name="items"/> newest first by the age of the row each holds, as <see cref="SortNewestFirst(Span{PresenceRow})"/>.</summary>
    public static void SortNewestFirst<T>(Span<T> items, Func<T, PresenceRow> rowOf)
    {
        if (items.Length < 2)
            return;
        long minTs = long.MaxValue, maxTs = long.MinValue, minWritten = long.MaxValue, maxWritten = long.MinValue;
        foreach (var item in items)
        {
            var row = rowOf(item);
            minTs = Math.Min(minTs, row.Entry.Ts);
            maxTs = Math.Max(maxTs, row.Entry.Ts);
            minWritten = Math.Min(minWritten, row.Written);
            maxWritten = Math.Max(maxWritten, row.Written);
        }
        // Unsigned differences: exact even where the signed ones would overflow.
        var indexBits = BitsFor((ulong)(items.Length - 1));
        var writtenBits = BitsFor((ulong)maxWritten - (ulong)minWritten);
        var tsBits = BitsFor((ulong)maxTs - (ulong)minTs);
        if (indexBits + writtenBits + tsBits > 63)
        {
            SortByComparison(items, rowOf);
            return;
        }
        var keys = items.Length <= KeysOnStack ? stackalloc long[items.Length] : new long[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            var row = rowOf(items[i]);
            keys[i] = (long)((((ulong)row.Entry.Ts - (ulong)minTs) << (writtenBits + indexBits))
                | (((ulong)row.Written - (ulong)minWritten) << indexBits)
                | (uint)i);
        }
        keys.Sort();
        var byIndex = ArrayPool<T>.Shared.Rent(items.Length);
        items.CopyTo(byIndex);
        var indexMask = (1L << indexBits) - 1;
        for (var i = 0; i < items.Length; i++)
            items[i] = byIndex[(int)(keys[items.Length - 1 - i] & indexMask)];
        ArrayPool<T>.Shared.Return(byIndex, clearArray: true);
    }

    private static void SortByComparison<T>(Span<T> items, Func<T, PresenceRow> rowOf)
    {
        var ages = new RowAge[items.Length];
        for (var i = 0; i < items.Length; i++)
            ages[i] = rowOf(items[i]).Age.Reversed;
        ages.AsSpan().Sort(items);
    }

    private static int BitsFor(ulong value) => 64 - BitOperations.LeadingZeroCount(value);
}
