using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Presence.Actors.Domain;
using Presence.Gateway.Auth;
using Presence.Gateway.Connections;
using Presence.Gateway.Network;

namespace Presence.Gateway.Transport;

/// <summary>
/// Kestrel connection middleware in front of the HTTP server: a connection whose first request is a
/// WebSocket upgrade on <c>/</c> is answered here and becomes a <see cref="WebSocketConnection"/> on the
/// connection's own pipes, with no HTTP request, WebSocket or timer objects kept for it. Every other
/// connection is handed to the HTTP server with its bytes unread.
/// </summary>
internal sealed class WebSocketListener(GatewaySettings settings, Admission admission, IServiceProvider services, TimeProvider time)
{
    private IActorRef? _supervisor;

    /// <summary>
    /// The one state machine a WebSocket keeps for its lifetime: the handshake (and the upgrade request
    /// it reads) lives in <see cref="UpgradeAsync"/>, whose state is dropped once the socket is attached.
    /// </summary>
    public async Task OnConnectionAsync(ConnectionContext context, ConnectionDelegate next)
    {
        if (await UpgradeAsync(context, next).ConfigureAwait(false) is var (connection, actor))
            await connection.RunAsync(await actor.ConfigureAwait(false)).ConfigureAwait(false);
    }

    /// <summary>Answers the opening handshake; the socket handed to its actor, or null when the connection was refused or is not a WebSocket.</summary>
    private async Task<(WebSocketConnection Connection, Task<IActorRef> Actor)?> UpgradeAsync(ConnectionContext context, ConnectionDelegate next)
    {
        var input = context.Transport.Input;
        while (true)
        {
            var result = await input.ReadAsync(context.ConnectionClosed).ConfigureAwait(false);
            var buffer = result.Buffer;
            var status = WebSocketHandshake.TryRead(buffer, out var end, out var request, out var refusal);
            if (status == WebSocketHandshake.Status.NeedMoreData && !result.IsCompleted && !result.IsCanceled)
            {
                input.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            if (status is WebSocketHandshake.Status.NotWebSocket or WebSocketHandshake.Status.NeedMoreData)
            {
                // Nothing consumed: the HTTP server reads the request from its first byte.
                input.AdvanceTo(buffer.Start);
                await next(context).ConfigureAwait(false);
                return null;
            }
            input.AdvanceTo(end);
            if (refusal is not null)
            {
                await context.Transport.Output.WriteAsync(WebSocketHandshake.Refuse(refusal), context.ConnectionClosed).ConfigureAwait(false);
                return null;
            }
            return await AcceptAsync(context, request!).ConfigureAwait(false);
        }
    }

    private async Task<(WebSocketConnection Connection, Task<IActorRef> Actor)?> AcceptAsync(ConnectionContext context, UpgradeRequest request)
    {
        var peer = (context.RemoteEndPoint as IPEndPoint)?.Address;
        var client = ClientAddress.Resolve(
            peer,
            context.Features.Get<ITlsHandshakeFeature>() is null ? "http" : "https",
            new ForwardingHeaders(request.Forwarded, request.ForwardedFor, request.ForwardedProto),
            settings.TrustedProxies);
        var ticket = admission.TryAdmit(client.Address, out var refusal);
        if (ticket is null)
        {
            // Refused before the upgrade, so a flood costs no WebSocket, actor or buffer.
            var busy = new WebSocketHandshake.Refusal(503, "Service Unavailable", refusal, "Retry-After: 1\r\n");
            await context.Transport.Output.WriteAsync(WebSocketHandshake.Refuse(busy), context.ConnectionClosed).ConfigureAwait(false);
            return null;
        }
        try
        {
            var supervisor = _supervisor ??= await services.GetRequiredService<IRequiredActor<ConnectionsSupervisorActor>>().GetAsync(context.ConnectionClosed).ConfigureAwait(false);
            // The 101 goes the way every later frame goes, so that none can overtake it.
            var wire = OutboxWire.For(context);
            wire.Copy(WebSocketHandshake.Accept(request.Key));
            await wire.FlushAsync().ConfigureAwait(false);

            // Whether the page is local is decided on the TCP peer, as OpenClaw does: any proxy header means not local.
            var info = new PeerInfo(ConnectionId.New(), client.Address, request.Origin, $"{client.Scheme}://{request.Host}", BrowserOrigin.IsLocalClient(peer, request.Proxied));
            var connection = new WebSocketConnection(info, context.Transport.Input, wire, context.Abort, settings, ticket, time);
            var attached = new ConnectionsSupervisorActor.Accept(connection);
            supervisor.Tell(attached);
            return (connection, attached.Actor);
        }
        catch (SocketException)
        {
            // Gone before the 101 went out.
            ticket.Dispose();
            return null;
        }
        catch
        {
            // Once attached, the connection gives its ticket back when it ends.
            ticket.Dispose();
            throw;
        }
    }
}
