using System.Runtime.InteropServices;
using Xunit;

namespace Presence.Gateway.Tests.Hardening;

/// <summary>What the gateway's periodic trim does to C heap memory that was freed but is still resident.</summary>
public sealed class NativeHeapTrimmerSpecs
{
    private const int PageSize = 4096;
    private const int BlockSize = 64 * 1024;

    [Fact]
    public void Should_hand_the_pages_of_freed_C_heap_blocks_back_to_the_kernel()
    {
        Assert.True(OperatingSystem.IsLinux(), "the gateway's trim is glibc's malloc_trim");
        // Below glibc's mmap threshold, so the blocks come from an arena and free() keeps their pages there.
        var blocks = Enumerable.Range(0, 256).Select(_ => Marshal.AllocHGlobal(BlockSize)).ToArray();
        var filler = new byte[BlockSize];
        Array.Fill(filler, (byte)1);
        foreach (var block in blocks)
            Marshal.Copy(filler, 0, block, BlockSize);
        // Allocated last and as large, so it comes from above the blocks (a small one would come from a free list):
        // the freed blocks are then not the arena's top chunk, which free() itself would give back.
        var keepsTheBlocksOffTheTop = Marshal.AllocHGlobal(BlockSize);
        try
        {
            foreach (var block in blocks)
                Marshal.FreeHGlobal(block);
            var residentAfterFree = ResidentShare(blocks);

            Assert.True(NativeHeapTrimmer.TryTrim());

            var residentAfterTrim = ResidentShare(blocks);
            Assert.True(residentAfterFree > 0.9, $"{residentAfterFree:P0} of the freed pages resident before the trim");
            Assert.True(residentAfterTrim < 0.1, $"{residentAfterTrim:P0} of the freed pages still resident after the trim");
        }
        finally
        {
            Marshal.FreeHGlobal(keepsTheBlocksOffTheTop);
        }
    }

    /// <summary>The share of whole pages inside the blocks (past each one's chunk header) that are in RAM.</summary>
    private static double ResidentShare(IntPtr[] blocks)
    {
        int resident = 0, pages = 0;
        var vector = new byte[BlockSize / PageSize];
        foreach (var block in blocks)
        {
            var first = (block + PageSize - 1) & ~(nint)(PageSize - 1);
            var length = (nuint)((block + BlockSize - first) & ~(nint)(PageSize - 1)) - PageSize;
            Assert.Equal(0, MinCore(first, length, vector));
            var count = (int)(length / PageSize);
            pages += count;
            resident += vector.Take(count).Count(page => (page & 1) != 0);
        }
        return (double)resident / pages;
    }

    [DllImport("libc", EntryPoint = "mincore")]
    private static extern int MinCore(IntPtr address, nuint length, [Out] byte[] vector);
}
