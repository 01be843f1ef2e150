using System.Buffers;

namespace Presence.Gateway.Tests.Transport;

/// <summary>
/// Byte sequences in several segments, as a pipe hands over data that arrived in several reads.
/// Also compiled into the fuzzer (fuzz/Presence.Fuzz), which feeds the decoder the same way.
/// </summary>
internal static class Segments
{
    /// <summary><paramref name="bytes"/> cut at <paramref name="cuts"/>.</summary>
    public static ReadOnlySequence<byte> Split(byte[] bytes, params int[] cuts)
    {
        var bounds = cuts.Where(c => c > 0 && c < bytes.Length).Distinct().Order().Append(bytes.Length).ToArray();
        return Join([.. bounds.Select((end, i) => (ReadOnlyMemory<byte>)bytes.AsMemory(i == 0 ? 0 : bounds[i - 1], end - (i == 0 ? 0 : bounds[i - 1])))]);
    }

    /// <summary>Every byte its own segment.</summary>
    public static ReadOnlySequence<byte> Bytewise(byte[] bytes) => Split(bytes, [.. Enumerable.Range(1, Math.Max(0, bytes.Length - 1))]);

    /// <summary>The pieces, one segment each, in order.</summary>
    public static ReadOnlySequence<byte> Join(IReadOnlyList<ReadOnlyMemory<byte>> pieces)
    {
        if (pieces.Count == 0)
            return ReadOnlySequence<byte>.Empty;
        var first = new Segment(pieces[0], 0);
        var last = first;
        foreach (var piece in pieces.Skip(1))
            last = last.Append(piece);
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
