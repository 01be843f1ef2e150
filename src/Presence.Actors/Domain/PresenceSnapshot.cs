using System.Collections.Immutable;

namespace Presence.Actors.Domain;

/// <summary>
/// An immutable view of the presence list: the self row first, then the others
/// newest first, with the <c>stateVersion</c> it was taken at, and its JSON array,
/// built once, on its first read, and shared by every reader.
/// </summary>
public sealed class PresenceSnapshot
{
    private readonly ImmutableArray<PresenceRow> _rows;
    private byte[]? _json;

    internal PresenceSnapshot(ImmutableArray<PresenceRow> rows, long stateVersion)
    {
        _rows = rows;
        StateVersion = stateVersion;
        var entries = ImmutableArray.CreateBuilder<PresenceEntry>(rows.Length);
        foreach (var row in rows)
            entries.Add(row.Entry);
        Entries = entries.MoveToImmutable();
    }

    public ImmutableArray<PresenceEntry> Entries { get; }

    public long StateVersion { get; }

    /// <summary>The list as a UTF-8 JSON array, exactly as it goes on the wire.</summary>
    /// <remarks>
    /// Joined on the first read, not with the snapshot: an announcement no one turns into a frame (a simulation's
    /// readers, a gateway without presence readers) never pays for the rows' JSON nor the copy of the list.
    /// A benign race: two first readers may both join, and both get identical bytes.
    /// </remarks>
    public ReadOnlyMemory<byte> Json => _json ??= JoinRows();

    private byte[] JoinRows()
    {
        var length = 2 + Math.Max(0, _rows.Length - 1);
        foreach (var row in _rows)
            length += row.Json.Length;
        var json = new byte[length];
        var at = 0;
        json[at++] = (byte)'[';
        for (var i = 0; i < _rows.Length; i++)
        {
            if (i > 0)
                json[at++] = (byte)',';
            _rows[i].Json.CopyTo(json, at);
            at += _rows[i].Json.Length;
        }
        json[at] = (byte)']';
        return json;
    }
}
