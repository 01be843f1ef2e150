using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Presence.LoadTest;

/// <summary>Opens many clients with bounded concurrency.</summary>
internal static class Clients
{
    /// <summary>Handshake latencies (ms) of the clients that got hello-ok, and the failures.</summary>
    internal sealed record Opened(List<GatewayClient> Clients, Latencies Latencies, int Failures, string? FirstFailure);

    public static async Task<Opened> ConnectAsync(ClientFactory factory, int count, int concurrency, Identity identity, ChangeProbe? probe, string label, int firstIndex = 0)
    {
        var clients = new GatewayClient?[count];
        var next = -1;
        var failures = 0;
        string? firstFailure = null;
        var parts = new List<Latencies>();
        using var progress = new ProgressLine(label, () => $"connected {clients.Count(c => c is not null)}/{count}, failed {Volatile.Read(ref failures)}");
        async Task Worker(Latencies latencies)
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var started = Stopwatch.GetTimestamp();
                // Bounded: a handshake that takes longer than this is a failure, not a hang.
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                try
                {
                    clients[i] = await GatewayClient.ConnectAsync(factory, identity, firstIndex + i, probe, timeout.Token).ConfigureAwait(false);
                    latencies.Add(started, Stopwatch.GetTimestamp());
                }
                catch (Exception ex) when (ex is LoadException or OperationCanceledException or System.Net.WebSockets.WebSocketException or IOException or HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                    Interlocked.CompareExchange(ref firstFailure, ex.GetType().Name + ": " + ex.Message, null);
                }
            }
        }
        var workers = Enumerable.Range(0, Math.Min(concurrency, count)).Select(_ =>
        {
            var latencies = new Latencies();
            parts.Add(latencies);
            return Worker(latencies);
        }).ToList();
        await Task.WhenAll(workers).ConfigureAwait(false);
        return new Opened(clients.OfType<GatewayClient>().ToList(), Latencies.Merge(parts), failures, firstFailure);
    }

    public static async Task CloseAllAsync(IReadOnlyList<GatewayClient> clients)
    {
        // Bounded parallel close: thousands of sequential closes would take minutes.
        await Parallel.ForEachAsync(clients, new ParallelOptions { MaxDegreeOfParallelism = 64 }, (client, _) => client.DisposeAsync()).ConfigureAwait(false);
    }
}

/// <summary>Start, measure and stop points shared by the loops of one closed-loop load.</summary>
internal sealed class LoadPhase
{
    private volatile bool _measuring;
    private volatile bool _stopping;

    public bool Measuring => _measuring;
    public bool Stopping => _stopping;

    public void BeginMeasure() => _measuring = true;
    public void EndMeasure() => _measuring = false;
    public void Stop() => _stopping = true;
}

/// <summary>
/// A closed-loop request load: <c>window</c> loops per client, each sending its next
/// request when the previous one is answered. Counts every request sent, answered
/// and lost, and the latency of those sent while the phase is measuring.
/// </summary>
internal sealed class RequestLoad
{
    private readonly List<Latencies> _parts = [];
    private readonly List<Task> _loops = [];
    private readonly IReadOnlyList<GatewayClient> _clients;
    private long _sent;
    private long _answered;
    private long _errors;
    private long _lost;
    private long _measuredAnswered;
    private int _lastReplyBytes;

    private RequestLoad(IReadOnlyList<GatewayClient> clients) => _clients = clients;

    public long Sent => Interlocked.Read(ref _sent);
    public long Answered => Interlocked.Read(ref _answered);
    public long Errors => Interlocked.Read(ref _errors);
    public long Lost => Interlocked.Read(ref _lost);

    /// <summary>Requests answered that were sent inside the measured window.</summary>
    public long MeasuredAnswered => Interlocked.Read(ref _measuredAnswered);

    public Latencies Latencies => Latencies.Merge(_parts);

    /// <summary>Size of the last response frame (a query's list size).</summary>
    public int LastReplyBytes => Volatile.Read(ref _lastReplyBytes);

    public string Status => string.Create(CultureInfo.InvariantCulture, $"sent {Sent}, answered {Answered}, errors {Errors}, lost {Lost}");

    /// <summary>Starts the loops; the params of a client's n-th request come from <paramref name="paramsFor"/>.</summary>
    public static RequestLoad Start(IReadOnlyList<GatewayClient> clients, int window, string method, Func<GatewayClient, long, Action<Utf8JsonWriter>?> paramsFor, LoadPhase phase)
    {
        var load = new RequestLoad(clients);
        foreach (var client in clients)
        {
            for (var w = 0; w < window; w++)
            {
                var latencies = new Latencies();
                load._parts.Add(latencies);
                load._loops.Add(load.LoopAsync(client, method, paramsFor, phase, latencies));
            }
        }
        return load;
    }

    /// <summary>Waits for the loops to finish their last request; past <paramref name="grace"/> what is still unanswered is lost.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        var all = Task.WhenAll(_loops);
        if (await Task.WhenAny(all, Task.Delay(grace)).ConfigureAwait(false) != all)
        {
            foreach (var client in _clients)
                client.FailPending();
        }
        await all.ConfigureAwait(false);
    }

    private async Task LoopAsync(GatewayClient client, string method, Func<GatewayClient, long, Action<Utf8JsonWriter>?> paramsFor, LoadPhase phase, Latencies latencies)
    {
        // Let the caller finish starting every loop before the first request goes out.
        await Task.Yield();
        long n = 0;
        while (!phase.Stopping)
        {
            var measured = phase.Measuring;
            var started = Stopwatch.GetTimestamp();
            Interlocked.Increment(ref _sent);
            try
            {
                var reply = await client.RequestAsync(method, paramsFor(client, n++), CancellationToken.None).ConfigureAwait(false);
                Interlocked.Increment(ref _answered);
                Volatile.Write(ref _lastReplyBytes, reply.Bytes);
                if (!reply.Ok)
                    Interlocked.Increment(ref _errors);
                if (measured && phase.Measuring)
                {
                    latencies.Add(started, reply.ReceivedAt);
                    Interlocked.Increment(ref _measuredAnswered);
                }
            }
            catch (Exception ex) when (ex is LoadException or System.Net.WebSockets.WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
            {
                Interlocked.Increment(ref _lost);
                return;
            }
        }
    }
}
