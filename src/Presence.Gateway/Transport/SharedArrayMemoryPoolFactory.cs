using System.Buffers;
using Microsoft.AspNetCore.Connections;

namespace Presence.Gateway.Transport;

/// <summary>
/// Gives Kestrel's socket pipes the runtime's shared array pool instead of its own pinned-block pool.
/// Kestrel's pool keeps every block ever returned to it and gives them back only by its idle eviction
/// (every 10 s, 1% of the free blocks while any traffic flows, 5% when none): after one fan-out to
/// 10,000 sockets it sits on ~10,000 pinned 4 KB blocks, which no GC can reclaim, for many minutes of
/// keep-alive traffic. An idle socket here holds no block (the read loop and the outbox leave both
/// pipes empty), so what a burst rents should go back to a pool that stays small: the shared array
/// pool keeps a few dozen arrays per core and trims them on a gen-2 GC.
/// </summary>
internal sealed class SharedArrayMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => MemoryPool<byte>.Shared;
}
