using System.Collections.Concurrent;

namespace Presence.LoadTest;

/// <summary>
/// What a started server printed: its first lines (for a start that fails) and every line logged at
/// warning level or above. The gateway logs through Microsoft.Extensions.Logging's console formatter,
/// whose entries begin <c>warn:</c>, <c>fail:</c> (error) or <c>crit:</c> with the message on the next
/// line; Akka's own warnings and errors go through the same logger. A crash of the process prints
/// <c>Unhandled exception.</c> outside any logger, so it counts too.
/// </summary>
internal sealed class ServerLog
{
    private const int KeptLines = 200;
    private const int KeptProblems = 20;

    private readonly ConcurrentQueue<string> _first = new();
    private readonly ConcurrentQueue<string> _problems = new();
    private int _problemCount;
    private volatile bool _nextIsMessage;

    /// <summary>Entries at warning level or above, and unhandled exceptions, since the server started.</summary>
    public int ProblemCount => Volatile.Read(ref _problemCount);

    /// <summary>The first <see cref="KeptProblems"/> of them, each with its message.</summary>
    public IReadOnlyList<string> Problems => _problems.ToArray();

    public IEnumerable<string> FirstLines => _first;

    public void Add(string line)
    {
        if (_first.Count < KeptLines)
            _first.Enqueue(line);
        if (_nextIsMessage)
        {
            _nextIsMessage = false;
            if (_problems.Count < KeptProblems)
                _problems.Enqueue(line.Trim());
        }
        if (line.StartsWith("warn:", StringComparison.Ordinal) || line.StartsWith("fail:", StringComparison.Ordinal)
            || line.StartsWith("crit:", StringComparison.Ordinal) || line.StartsWith("Unhandled exception", StringComparison.Ordinal))
        {
            if (Interlocked.Increment(ref _problemCount) <= KeptProblems)
            {
                _problems.Enqueue(line.Trim());
                _nextIsMessage = true;
            }
        }
    }
}
