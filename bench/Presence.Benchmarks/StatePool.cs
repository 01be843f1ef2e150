using Presence.Actors.Domain;

namespace Presence.Benchmarks;

/// <summary>
/// States for benchmarks that must not see the same state twice: row JSON is cached on
/// the row the first time it is written, so a reused state would measure the cached path.
/// Filled before each iteration (untimed); the job runs exactly <see cref="Size"/>
/// invocations per iteration, one state each.
/// </summary>
internal sealed class StatePool(int size)
{
    private readonly PresenceState[] _states = new PresenceState[size];
    private int _next;

    public int Size => _states.Length;

    public void Fill(Func<int, PresenceState> build)
    {
        for (var i = 0; i < _states.Length; i++)
            _states[i] = build(i);
        _next = 0;
    }

    // Running past the pool would silently measure warm states; fail the benchmark instead.
    public PresenceState Take() => _next < _states.Length
        ? _states[_next++]
        : throw new InvalidOperationException($"More than {_states.Length} invocations in one iteration; the job must run exactly {_states.Length}.");
}
