using System.Buffers;

namespace Presence.Gateway.Tests.Transport;

/// <summary>Byte sequences cut into segments where a spec says, as a pipe hands over data that arrived in several reads.</summary>
internal static class Segments
{
    public static ReadOnlySequence<byte> Split(byte[] bytes, params int[] cuts)
    {
        var bounds = cuts.Where(c => c > 0 && c < bytes.Length).Distinct().Order().Append(bytes.Length).ToArray();
        if (bounds.Length == 1)
            return new ReadOnlySequence<byte>(bytes);
        var first = new Segment(bytes.AsMemory(0, bounds[0]), 0);
        var last = first;
        for (var i = 1; i < bounds.Length; i++)
            last = last.Append(bytes.AsMemory(bounds[i - 1], bounds[i] - bounds[i - 1]));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Every byte its own segment.</summary>
    public static ReadOnlySequence<byte> Bytewise(byte[] bytes) => Split(bytes, [.. Enumerable.Range(1, Math.Max(0, bytes.Length - 1))]);

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
