using System.Net.WebSockets;
using System.Reflection;
using Akka;
using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Presence.Actors.Cluster;
using Presence.Actors.Domain;
using Presence.Actors.Hosting;
using Presence.Actors.PresenceManager;
using Presence.Gateway.Connections;
using Presence.Gateway.Operators;

namespace Presence.Gateway;

/// <summary>Builds the gateway application: Kestrel, the actor system, and the WebSocket endpoint. Program and tests share it.</summary>
public static partial class GatewayApp
{
    public static readonly string Version =
        typeof(GatewayApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>The actor system's name: cluster seeds given as host:port are addresses of it.</summary>
    public const string SystemName = "presence-gateway";

    /// <param name="args">Gateway options such as <c>--port 0 --auth token --token secret</c>.</param>
    /// <param name="overrides">Configuration that wins over options and defaults (tests use it for short timers).</param>
    /// <param name="self">The gateway's own presence row; detected from the machine when not given.</param>
    /// <exception cref="GatewaySettingsException">An option or setting is invalid.</exception>
    public static WebApplication Build(IReadOnlyList<string> args, Config? overrides = null, PresenceEntry? self = null) =>
        Build((overrides ?? Config.Empty).WithFallback(GatewayCommandLine.GatewayConfig(args)), self);

    /// <param name="options">Configuration from the command line (and overrides); the defaults are underneath.</param>
    /// <param name="self">The gateway's own presence row; detected from the machine when not given.</param>
    /// <exception cref="GatewaySettingsException">A setting is invalid.</exception>
    public static WebApplication Build(Config options, PresenceEntry? self = null)
    {
        var config = options;
        var settings = GatewaySettings.Create(config);
        var presence = PresenceSettings.Create(config);
        var cluster = ClusterSettings(config);
        var admission = new Admission(settings.Limits);
        var board = new PresenceBoard();

        var builder = WebApplication.CreateSlimBuilder();
        // Per-request logs would be one line per WebSocket upgrade; warnings and errors still show.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(settings.BindAddress, settings.Port));
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(10));
        builder.Services.AddAkka(SystemName, akka =>
        {
            akka.AddHocon(config, HoconAddMode.Prepend);
            akka.AddHocon(GatewaySettings.DefaultConfig, HoconAddMode.Append);
            akka.ConfigureLoggers(loggers =>
            {
                loggers.ClearLoggers();
                loggers.AddLoggerFactory();
            });
            akka.AddPresence(self, board);
            if (cluster.Enabled)
                akka.AddPresenceCluster(cluster);
            akka.AddOperators(clustered: cluster.Enabled);
            akka.WithActors((system, registry) =>
            {
                var options = new ConnectionOptions(settings, admission, board, system.Scheduler, presence.UntrackedModes, presence.AskTimeout, Version, system.Scheduler.Now.ToUnixTimeMilliseconds());
                var supervisor = system.ActorOf(ConnectionsSupervisorActor.Props(registry.Get<PresenceManagerActor>(), options), "connections");
                registry.Register<ConnectionsSupervisorActor>(supervisor);
            });
        });
        builder.Services.AddPresenceQueries();
        builder.Services.AddOperators();
        builder.Services.AddHostedService(services => new NativeHeapTrimmer(settings.NativeHeapTrimInterval, services.GetRequiredService<ILogger<NativeHeapTrimmer>>()));

        var app = builder.Build();
        app.UseWebSockets();
        app.MapOperators();
        app.Map("/", context => AcceptAsync(context, settings, admission));
        var lifetime = app.Lifetime;
        lifetime.ApplicationStarted.Register(() =>
        {
            var url = ListeningUrl(app);
            LogListening(app.Logger, url);
        });
        lifetime.ApplicationStopping.Register(() => CloseAllConnections(app));
        return app;
    }

    /// <summary>Cluster options (<c>--cluster</c>, <c>--seed</c>, ...) are gateway options: a bad one stops start-up like any other, with exit code 2.</summary>
    private static PresenceClusterSettings ClusterSettings(Config config)
    {
        try
        {
            return PresenceClusterSettings.Create(config, SystemName);
        }
        catch (PresenceSettingsException ex)
        {
            throw new GatewaySettingsException(ex.Message, ex.Key);
        }
    }

    /// <summary>The WebSocket URL clients dial, with the real port when the configured one was 0.</summary>
    public static string ListeningUrl(WebApplication app)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "http://127.0.0.1";
        return address.Replace("http://", "ws://", StringComparison.Ordinal);
    }

    private static async Task AcceptAsync(HttpContext context, GatewaySettings settings, Admission admission)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await OperatorsHosting.ServeInstancesPageAsync(context).ConfigureAwait(false);
            return;
        }
        using var ticket = admission.TryAdmit(context.Connection.RemoteIpAddress, out var refusal);
        if (ticket is null)
        {
            // Refused before the upgrade, so a flood costs no WebSocket, actor or buffer.
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = "1";
            await context.Response.WriteAsync(refusal, context.RequestAborted).ConfigureAwait(false);
            return;
        }
        await RunConnectionAsync(context, settings, ticket).ConfigureAwait(false);
    }

    private static async Task RunConnectionAsync(HttpContext context, GatewaySettings settings, Admission.Ticket ticket)
    {
        var supervisor = await context.RequestServices.GetRequiredService<IRequiredActor<ConnectionsSupervisorActor>>().GetAsync(context.RequestAborted).ConfigureAwait(false);
        using var webSocket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            DangerousEnableCompression = false,
            KeepAliveInterval = settings.PingInterval,
            // A pong must come back before the next ping is due, so a socket still open at a ping answered the last one.
            KeepAliveTimeout = settings.PingInterval * 0.8,
        }).ConfigureAwait(false);
        var socket = new GatewaySocket(
            ConnectionId.New(),
            context.Connection.RemoteIpAddress,
            context.Request.Headers.Origin.FirstOrDefault(),
            $"{context.Request.Scheme}://{context.Request.Host}",
            settings,
            ticket);
        supervisor.Tell(new ConnectionsSupervisorActor.Accept(socket));
        await socket.RunAsync(webSocket, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>On a graceful stop, every client hears <c>shutdown</c> and close 1012 before Kestrel drains the sockets.</summary>
    private static void CloseAllConnections(WebApplication app)
    {
        var registry = app.Services.GetRequiredService<ActorRegistry>();
        if (!registry.TryGet<ConnectionsSupervisorActor>(out var supervisor))
            return;
        try
        {
            supervisor.Ask<Done>(ConnectionsSupervisorActor.ShutdownAll.Instance, TimeSpan.FromSeconds(2)).Wait();
        }
        catch (AggregateException ex) when (ex.InnerException is AskTimeoutException)
        {
            LogShutdownUnconfirmed(app.Logger);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Presence gateway listening on {Url}")]
    private static partial void LogListening(ILogger logger, string url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connections did not confirm the shutdown notice in time; closing anyway")]
    private static partial void LogShutdownUnconfirmed(ILogger logger);
}
