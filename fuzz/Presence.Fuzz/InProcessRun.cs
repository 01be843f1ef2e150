using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;

namespace Presence.Fuzz;

/// <summary>
/// A bounded, in-process pass with no external fuzzer: the seeds once as they are, then mutants of
/// them until the time or execution budget runs out. Coverage-blind; its only feedback is that
/// mutants that went deep (parsed as requests, or decoded past the frame headers) join the pool, so
/// later mutations start deep. A crash or an execution slower than the hang bound (5 s by default, as
/// afl-fuzz -t in fuzz/run-afl.sh, so the first execution's JIT on a loaded machine is no false alarm)
/// stops the run, saves the input and fails.
/// </summary>
internal sealed class InProcessRun
{
    /// <summary>What one input is run through: a target's <c>Run</c>; true when the input went deep (it then joins the pool).</summary>
    public delegate bool Target(ReadOnlySpan<byte> input);

    /// <summary>Bounds the pool's memory: at most this many mutants, each no larger than <see cref="MaxPoolInput"/>.</summary>
    private const int MaxPool = 4096;
    private const int MaxPoolInput = 4096;

    /// <summary>Names the target in the output lines.</summary>
    public required string Name { get; init; }
    public required Target Run { get; init; }

    /// <summary>Makes a mutant of an input, given another input to splice from.</summary>
    public required Func<byte[], byte[], byte[]> Mutate { get; init; }
    public required IReadOnlyList<byte[]> Seeds { get; init; }
    public required TimeSpan Duration { get; init; }
    public required long MaxExecutions { get; init; }
    public required int RandomSeed { get; init; }
    public required TimeSpan HangBound { get; init; }
    public required string CrashDirectory { get; init; }

    /// <summary>Prints the figures; true when no input failed.</summary>
    public bool Execute(TextWriter output)
    {
        var random = new Random(RandomSeed);
        var pool = new List<byte[]>();
        var clock = Stopwatch.StartNew();
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        long executions = 0;
        long reached = 0;

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fuzz {Name}: seed {RandomSeed}, {Seeds.Count} seed inputs, up to {Duration.TotalSeconds:0} s{(MaxExecutions == long.MaxValue ? "" : $" or {MaxExecutions} executions")}"));
        var failure = Seeds.Select(seed => Try(seed, output, ref executions, ref reached)).FirstOrDefault(result => result is not null);
        while (failure is null && executions < MaxExecutions && clock.Elapsed < Duration)
        {
            var input = Pick(random, pool);
            var mutant = Mutate(input, Seeds[random.Next(Seeds.Count)]);
            var reachedBefore = reached;
            failure = Try(mutant, output, ref executions, ref reached);
            if (reached > reachedBefore && mutant.Length <= MaxPoolInput)
            {
                if (pool.Count < MaxPool)
                    pool.Add(mutant);
                else
                    pool[random.Next(MaxPool)] = mutant;
            }
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        using var process = Process.GetCurrentProcess();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fuzz {Name}: {executions} executions in {seconds:0.0} s ({executions / Math.Max(seconds, 0.001):0} exec/s), {reached} went deep, pool {pool.Count}; managed heap {heapBefore >> 20} -> {heapAfter >> 20} MiB, peak working set {process.PeakWorkingSet64 >> 20} MiB"));
        return failure is null;
    }

    private byte[] Pick(Random random, List<byte[]> pool) =>
        pool.Count > 0 && random.Next(2) == 0 ? pool[random.Next(pool.Count)] : Seeds[random.Next(Seeds.Count)];

    private string? Try(byte[] input, TextWriter output, ref long executions, ref long reached)
    {
        var started = Stopwatch.GetTimestamp();
        string? failure = null;
        try
        {
            if (Run(input))
                reached++;
        }
#pragma warning disable CA1031 // Any exception at all is the finding: the code under test must throw none.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            failure = ex.ToString();
        }

        executions++;
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (failure is null && elapsed > HangBound)
            failure = string.Create(CultureInfo.InvariantCulture, $"hang: one execution took {elapsed.TotalMilliseconds:0} ms");
        if (failure is null)
            return null;

        Directory.CreateDirectory(CrashDirectory);
        var path = Path.Combine(CrashDirectory, "crash-" + Convert.ToHexStringLower(SHA256.HashData(input))[..16]);
        File.WriteAllBytes(path, input);
        output.WriteLine($"fuzz {Name}: execution {executions} failed; input saved to {path}");
        output.WriteLine(failure);
        return failure;
    }
}
