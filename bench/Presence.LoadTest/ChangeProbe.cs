using System.Diagnostics;
using System.Text;

namespace Presence.LoadTest;

/// <summary>
/// Watches for one change at a time: each watcher, on every presence event, looks
/// for the change's unique marker in the raw frame and files its arrival time once.
/// </summary>
internal sealed class ChangeProbe(int watchers)
{
    private readonly long[] _arrivals = new long[watchers];
    private byte[]? _marker;
    private int _trial = -1;
    private int _remaining;
    private TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Expects <paramref name="marker"/> at every watcher from now on.</summary>
    public Task Arm(int trial, string marker)
    {
        Array.Fill(_arrivals, 0);
        _all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _remaining, _arrivals.Length);
        Volatile.Write(ref _trial, trial);
        Volatile.Write(ref _marker, Encoding.UTF8.GetBytes(marker));
        return _all.Task;
    }

    public void Disarm() => Volatile.Write(ref _marker, null);

    /// <summary>Arrival times (Stopwatch ticks; 0 = not arrived) of the armed trial.</summary>
    public ReadOnlySpan<long> Arrivals => _arrivals;

    public void OnPresence(GatewayClient watcher, ReadOnlySpan<byte> frame, long receivedAt)
    {
        var marker = Volatile.Read(ref _marker);
        var trial = Volatile.Read(ref _trial);
        if (marker is null || watcher.SeenTrial == trial || frame.IndexOf(marker) < 0)
            return;
        watcher.SeenTrial = trial;
        _arrivals[watcher.Index] = receivedAt;
        if (Interlocked.Decrement(ref _remaining) == 0)
            _all.TrySetResult();
    }

    public static double Milliseconds(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;
}
