using System.Net;
using System.Net.Sockets;

namespace Presence.LoadTest;

/// <summary>
/// Opens the TCP connections under every WebSocket. Only 127.0.0.1 may be dialled;
/// the local end is spread over several loopback source addresses (127.0.0.2, .3, …)
/// because one source address has only ~28,000 ephemeral ports, and runs of
/// thousands of connections, with TIME_WAIT left from the previous run, would exhaust them.
/// </summary>
internal sealed class ClientFactory : IDisposable
{
    private readonly IPAddress[] _sources;
    private int _next;

    public ClientFactory(Uri url, int sourceAddresses)
    {
        if (url.Scheme != "ws" || !IPAddress.TryParse(url.Host, out var host) || !host.Equals(IPAddress.Loopback))
            throw new UsageException($"the load tool connects only to ws://127.0.0.1:<port>, not {url}");
        Url = url;
        _sources = Enumerable.Range(2, sourceAddresses).Select(i => new IPAddress([127, 0, 0, (byte)i])).ToArray();
        Invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            ConnectCallback = ConnectAsync,
            // An upgraded connection leaves the pool for good; nothing is worth pooling.
            PooledConnectionLifetime = TimeSpan.Zero,
            UseProxy = false,
        });
    }

    public Uri Url { get; }

    public HttpMessageInvoker Invoker { get; }

    public void Dispose() => Invoker.Dispose();

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var source = _sources[(int)((uint)Interlocked.Increment(ref _next) % (uint)_sources.Length)];
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
