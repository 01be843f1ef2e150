using System.Globalization;
using Presence.Fuzz;
using SharpFuzz;

// Usage (see docs/reliability.md, "Fuzzing"); --target messages|frames picks the target (default: messages),
// and run takes all to run both, one after the other, each for half the time:
//   run [--seconds S] [--execs N] [--seed R] [--hang-ms M] [--captures DIR] [--crashes DIR] [--target T|all]
//                                  the bounded in-process pass CI runs; ends with "fuzz: N passed, N failed"
//   seeds OUTDIR [--captures DIR]  writes the seed corpus for afl-fuzz -i (or libFuzzer)
//   dict FILE                      writes the mutator's tokens as an AFL/libFuzzer dictionary (-x / -dict=)
//   afl                            the target under afl-fuzz (assemblies instrumented with the sharpfuzz tool)
//   libfuzzer                      the target under the libfuzzer-dotnet driver
//   replay FILE|DIR...             runs saved inputs (crashes, queue entries) and reports each failure
var command = args.Length > 0 ? args[0] : "run";
var options = Options.Parse(args.Skip(1));
var frames = options.Value("target") == "frames";
InProcessRun.Target target = frames ? FrameFuzzTarget.Run : FuzzTarget.Run;
switch (command)
{
    case "run":
        return Run(options);
    case "seeds" when options.Positional.Count == 1:
        var seeds = frames ? SeedCorpus.LoadFrames(options.Captures) : SeedCorpus.Load(options.Captures);
        Console.WriteLine($"wrote {SeedCorpus.Write(seeds, options.Positional[0])} seeds to {options.Positional[0]}");
        return 0;
    case "dict" when options.Positional.Count == 1:
        File.WriteAllLines(options.Positional[0], Mutator.Tokens.Select((token, i) => $"token_{i}=\"{DictionaryEscape(token)}\""));
        return 0;
    case "afl":
        // One input per iteration in this same process (AFL's persistent mode); the buffer is reused.
        var buffer = new MemoryStream();
        Fuzzer.Run(stream =>
        {
            buffer.SetLength(0);
            stream.CopyTo(buffer);
            target(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        });
        return 0;
    case "libfuzzer":
        Fuzzer.LibFuzzer.Run(span => target(span));
        return 0;
    case "replay" when options.Positional.Count > 0:
        return Replay(options.Positional, target);
    default:
        Console.Error.WriteLine("usage: Presence.Fuzz run|seeds OUTDIR|afl|libfuzzer|replay FILE... [options]; see Program.cs");
        return 2;
}

// Each target in turn, on its own seeds and mutations, sharing the time; one "passed" per target that found nothing.
static int Run(Options options)
{
    var which = options.Value("target") ?? "all";
    var targets = new List<(string Name, InProcessRun.Target Run, Func<Random, Func<byte[], byte[], byte[]>> Mutator, Func<string, IReadOnlyList<byte[]>> Seeds)>();
    if (which is "all" or "messages")
        targets.Add(("messages", FuzzTarget.Run, random => new Mutator(random).Mutate, SeedCorpus.Load));
    if (which is "all" or "frames")
        targets.Add(("frames", FrameFuzzTarget.Run, random => new Mutator(random).MutateFrames, SeedCorpus.LoadFrames));
    if (targets.Count == 0)
        throw new ArgumentException($"--target {which}: messages, frames or all");
    var seed = (int)options.Number("seed", Random.Shared.Next());
    var passed = 0;
    foreach (var (name, run, mutator, seeds) in targets)
    {
        var ok = new InProcessRun
        {
            Name = name,
            Run = run,
            Mutate = mutator(new Random(seed)),
            Seeds = seeds(options.Captures),
            Duration = TimeSpan.FromSeconds((double)options.Number("seconds", 30) / targets.Count),
            MaxExecutions = options.Number("execs", long.MaxValue),
            RandomSeed = seed,
            HangBound = TimeSpan.FromMilliseconds(options.Number("hang-ms", 5000)),
            CrashDirectory = options.Value("crashes") ?? Path.Combine("artifacts", "fuzz", "crashes"),
        }.Execute(Console.Out);
        passed += ok ? 1 : 0;
    }
    Console.WriteLine($"fuzz: {passed} passed, {targets.Count - passed} failed");
    return passed == targets.Count ? 0 : 1;
}

// AFL's dictionary syntax: a quoted string in which only backslash, quote and \xNN escapes exist; bytes outside printable ASCII become \xNN.
static string DictionaryEscape(string token) => string.Concat(System.Text.Encoding.UTF8.GetBytes(token).Select(b =>
    b is (byte)'\\' or (byte)'"' ? "\\" + (char)b
    : b is >= 0x20 and < 0x7F ? ((char)b).ToString()
    : string.Create(CultureInfo.InvariantCulture, $"\\x{b:X2}")));

static int Replay(IEnumerable<string> paths, InProcessRun.Target target)
{
    var failed = 0;
    // afl-fuzz leaves a README.txt beside the inputs in its crashes folder.
    var files = paths.SelectMany(path => Directory.Exists(path)
        ? Directory.EnumerateFiles(path).Where(file => !Path.GetFileName(file).StartsWith("README", StringComparison.Ordinal)).Order(StringComparer.Ordinal)
        : Enumerable.Repeat(path, 1)).ToList();
    foreach (var file in files)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            target(File.ReadAllBytes(file));
            // Slow inputs are findings too (afl-fuzz saves them as hangs): say how slow.
            var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            if (elapsed.TotalMilliseconds >= 50)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{file}: passed in {elapsed.TotalMilliseconds:0} ms"));
        }
#pragma warning disable CA1031 // Any exception at all is the finding: the code under test must throw none.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            failed++;
            Console.WriteLine($"{file}: {ex}");
        }
    }

    Console.WriteLine($"replay: {files.Count - failed} passed, {failed} failed");
    return failed == 0 ? 0 : 1;
}

/// <summary><c>--name value</c> pairs and the positional arguments around them.</summary>
internal sealed record Options(IReadOnlyDictionary<string, string> Named, IReadOnlyList<string> Positional)
{
    public string Captures => Value("captures") ?? SeedCorpus.DefaultCapturesRoot();

    public string? Value(string name) => Named.TryGetValue(name, out var value) ? value : null;

    public long Number(string name, long fallback) =>
        Value(name) is { } text ? long.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture) : fallback;

    public static Options Parse(IEnumerable<string> args)
    {
        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        var positional = new List<string>();
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            if (!e.Current.StartsWith("--", StringComparison.Ordinal))
            {
                positional.Add(e.Current);
                continue;
            }

            var name = e.Current[2..];
            named[name] = e.MoveNext() ? e.Current : throw new ArgumentException($"--{name} needs a value");
        }

        return new Options(named, positional);
    }
}
