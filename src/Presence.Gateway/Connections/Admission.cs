using System.Collections.Concurrent;
using System.Net;
using Presence.Actors.Domain;

namespace Presence.Gateway.Connections;

/// <summary>
/// Admission control at the edge, shared by the HTTP upgrade and every connection:
/// caps on connections overall and on unfinished handshakes per address, failed-login
/// rate limiting per address, and a bound on requests in flight overall. Counters,
/// not actors, because the HTTP upgrade must decide synchronously and cheaply.
/// </summary>
internal sealed class Admission(AdmissionLimits limits)
{
    /// <summary>Addresses remembered for failed logins; past this, expired windows are purged first.</summary>
    private const int MaxTrackedAddresses = 10_000;

    private readonly ConcurrentDictionary<IPAddress, int> _pendingHandshakes = new();
    private readonly ConcurrentDictionary<IPAddress, FailureWindow> _authFailures = new();
    private int _connections;
    private int _requestsInFlight;

    /// <summary>
    /// Admits a socket before its upgrade, or says why not (ticket null). Disposing the ticket, when the
    /// socket is done, gives back what it held.
    /// </summary>
    public Ticket? TryAdmit(IPAddress? address, out string refusal)
    {
        if (Interlocked.Increment(ref _connections) > limits.MaxConnections)
        {
            Interlocked.Decrement(ref _connections);
            refusal = "gateway at connection limit";
            return null;
        }
        var key = address ?? IPAddress.None;
        if (_pendingHandshakes.AddOrUpdate(key, 1, (_, count) => count + 1) > limits.MaxPendingHandshakesPerAddress)
        {
            ReleaseHandshake(key);
            Interlocked.Decrement(ref _connections);
            refusal = "too many unfinished handshakes from this address";
            return null;
        }
        refusal = "";
        return new Ticket(this, key);
    }

    /// <summary>True while <paramref name="address"/> has used up its failed logins for the current window.</summary>
    public bool IsAuthRateLimited(IPAddress? address, out int retryAfterMs)
    {
        retryAfterMs = 0;
        if (address is null || Exempt(address) || !_authFailures.TryGetValue(address, out var window))
            return false;
        var now = Environment.TickCount64;
        if (window.Count < limits.AuthFailuresPerAddress || window.EndsAt <= now)
            return false;
        retryAfterMs = (int)Math.Min(int.MaxValue, window.EndsAt - now);
        return true;
    }

    public void AuthFailed(IPAddress? address)
    {
        if (address is null || Exempt(address))
            return;
        var now = Environment.TickCount64;
        if (_authFailures.Count >= MaxTrackedAddresses && !_authFailures.ContainsKey(address))
        {
            PurgeExpired(now);
            // Still full of live windows: an address beyond them is not remembered, so the map stays bounded.
            if (_authFailures.Count >= MaxTrackedAddresses)
                return;
        }
        var windowMs = (long)limits.AuthFailureWindow.TotalMilliseconds;
        _authFailures.AddOrUpdate(
            address,
            _ => new FailureWindow(now + windowMs, 1),
            (_, window) => window.EndsAt <= now ? new FailureWindow(now + windowMs, 1) : window with { Count = window.Count + 1 });
    }

    /// <summary>Takes one of the gateway-wide request slots; false when all are taken.</summary>
    public bool TryStartRequest()
    {
        if (Interlocked.Increment(ref _requestsInFlight) <= limits.MaxRequestsInFlight)
            return true;
        Interlocked.Decrement(ref _requestsInFlight);
        return false;
    }

    public void RequestEnded() => Interlocked.Decrement(ref _requestsInFlight);

    private bool Exempt(IPAddress address) => limits.AuthLimitExemptsLoopback && Loopback.IsLoopback(address);

    private void ReleaseHandshake(IPAddress key)
    {
        // Remove the entry at zero so that the map holds only addresses with sockets in handshake.
        while (_pendingHandshakes.TryGetValue(key, out var count))
        {
            if (count <= 1 ? _pendingHandshakes.TryRemove(new KeyValuePair<IPAddress, int>(key, count)) : _pendingHandshakes.TryUpdate(key, count - 1, count))
                return;
        }
    }

    private void PurgeExpired(long now)
    {
        foreach (var (address, window) in _authFailures)
        {
            if (window.EndsAt <= now)
                _authFailures.TryRemove(new KeyValuePair<IPAddress, FailureWindow>(address, window));
        }
    }

    private sealed record FailureWindow(long EndsAt, int Count);

    /// <summary>What one admitted socket holds: a connection slot, and a handshake slot of its address until its connect succeeds.</summary>
    public sealed class Ticket(Admission admission, IPAddress address) : IDisposable
    {
        private int _handshakePending = 1;
        private int _disposed;

        /// <summary>The connect succeeded: the socket no longer counts against its address's unfinished handshakes.</summary>
        public void HandshakeEnded()
        {
            if (Interlocked.Exchange(ref _handshakePending, 0) == 1)
                admission.ReleaseHandshake(address);
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1)
                return;
            HandshakeEnded();
            Interlocked.Decrement(ref admission._connections);
        }
    }
}
