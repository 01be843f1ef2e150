using System.Runtime.InteropServices;

namespace Presence.Gateway;

/// <summary>
/// Now and then hands the C heap's free pages back to the kernel. The JIT keeps recompiling methods at tier 1
/// long after start-up, on whichever thread it runs, and glibc keeps each compilation's freed scratch memory in
/// that thread's arena: in a 30-minute soak the arenas grew by 9 MB in bursts of 1 to 6 MB of freed machine-code
/// buffers while everything else held (docs/reliability.md, "Soak"). <c>malloc_trim(0)</c> releases every whole
/// free page of every arena.
/// </summary>
internal sealed partial class NativeHeapTrimmer(TimeSpan interval, ILogger<NativeHeapTrimmer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!OperatingSystem.IsLinux())
            return;
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            if (!TryTrim())
            {
                LogNoMallocTrim(logger);
                return;
            }
        }
    }

    /// <returns>False where the C library has no <c>malloc_trim</c> (musl, as on Alpine).</returns>
    internal static bool TryTrim()
    {
        try
        {
            // 1 when it released pages, 0 when there were none to release: neither is a failure.
            _ = MallocTrim(0);
            return true;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    [LoggerMessage(Level = LogLevel.Information, Message = "The C library has no malloc_trim; free native heap pages stay with the process.")]
    private static partial void LogNoMallocTrim(ILogger logger);
}
