using System.Reflection;
using Akka;
using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Presence.Actors.Cluster;
using Presence.Actors.Domain;
using Presence.Actors.Hosting;
using Presence.Actors.PresenceManager;
using Presence.Gateway.Connections;
using Presence.Gateway.Operators;
using Presence.Gateway.Transport;

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
    public static WebApplication Build(IReadOnlyList<string> args, Config? overrides = null, PresenceEntry? self = null)
    {
        var config = (overrides ?? Config.Empty).WithFallback(GatewaySettings.FromCommandLine(args));
        var settings = GatewaySettings.Create(config);
        var presence = PresenceSettings.Create(config);
        var cluster = ClusterSettings(config);
        var admission = new Admission(settings.Limits);

        var builder = WebApplication.CreateSlimBuilder();
        // Per-request logs would be one line per WebSocket upgrade; warnings and errors still show.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = settings.InlineIo);
        builder.Services.AddSingleton<IMemoryPoolFactory<byte>, SharedArrayMemoryPoolFactory>();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(settings.BindAddress, settings.Port, listen =>
        {
            var webSockets = new WebSocketListener(settings, admission, listen.ApplicationServices);
            listen.Use(next => connection => webSockets.OnConnectionAsync(connection, next));
        }));
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
            akka.AddPresence(self);
            if (cluster.Enabled)
                akka.AddPresenceCluster(cluster);
            akka.AddOperators(clustered: cluster.Enabled);
            akka.WithActors((system, registry) =>
            {
                var options = new ConnectionOptions(settings, admission, presence.UntrackedModes, presence.AskTimeout, Version, system.Scheduler.Now.ToUnixTimeMilliseconds());
                var supervisor = system.ActorOf(ConnectionsSupervisorActor.Props(registry.Get<PresenceManagerActor>(), options), "connections");
                registry.Register<ConnectionsSupervisorActor>(supervisor);
            });
        });
        builder.Services.AddPresenceQueries();
        builder.Services.AddOperators();
        builder.Services.AddHostedService(services => new NativeHeapTrimmer(settings.NativeHeapTrimInterval, services.GetRequiredService<ILogger<NativeHeapTrimmer>>()));

        var app = builder.Build();
        app.MapOperators();
        app.Map("/", ServeRootAsync);
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

    /// <summary>
    /// WebSocket upgrades are answered by the <see cref="WebSocketListener"/> before the HTTP server sees
    /// them; one that reaches it came after another request on a kept-alive connection, which no
    /// WebSocket client does, so it is refused rather than served a second way.
    /// </summary>
    private static Task ServeRootAsync(HttpContext context)
    {
        if (!context.Request.Headers.Upgrade.Any(value => value?.Contains("websocket", StringComparison.OrdinalIgnoreCase) == true))
            return OperatorsHosting.ServeInstancesPageAsync(context);
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        context.Response.Headers.Connection = "close";
        return context.Response.WriteAsync("open a new connection for the WebSocket upgrade\n", context.RequestAborted);
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
