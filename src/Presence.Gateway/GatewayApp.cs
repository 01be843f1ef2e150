using System.Reflection;
using Akka;
using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Presence.Actors.Cluster;
using Presence.Actors.Domain;
using Presence.Actors.Hosting;
using Presence.Actors.PresenceManager;
using Presence.Gateway.Connections;
using Presence.Gateway.Operators;
using Presence.Gateway.Tls;
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
        var certificate = settings.Tls is { } tls ? ServerCertificate.Open(tls, settings.BindAddress, TimeProvider.System) : null;

        var builder = WebApplication.CreateSlimBuilder();
        // Per-request logs would be one line per WebSocket upgrade; warnings and errors still show.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = settings.InlineIo);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(settings.BindAddress, settings.Port, listen =>
            {
                // TLS first: the WebSocket listener and the HTTP server after it both read the decrypted stream.
                UseTls(listen, certificate);
                var webSockets = new WebSocketListener(settings, admission, listen.ApplicationServices, TimeProvider.System);
                listen.Use(next => connection => webSockets.OnConnectionAsync(connection, next));
            });
            // Cluster Bootstrap's management port: plain HTTP, only /bootstrap/seed-nodes.
            if (cluster.Enabled && cluster.Bootstraps)
                kestrel.Listen(ClusterBootstrapEndpoint.BindAddress(cluster), cluster.ManagementPort);
        });
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
                // A shutdown the host did not start (the Split Brain Resolver downing this node) still tells every
                // client `shutdown` and closes it with 1012 before the actors stop; on a host stop this comes second
                // and finds the connections already closing.
                CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "close-client-connections",
                    () => supervisor.Ask<Done>(ConnectionsSupervisorActor.ShutdownAll.Instance, TimeSpan.FromSeconds(2)));
            });
        });
        builder.Services.AddPresenceQueries();
        builder.Services.AddOperators(certificate, cluster.Enabled && cluster.Bootstraps);
        builder.Services.AddHostedService(services => new NativeHeapTrimmer(settings.NativeHeapTrimInterval, services.GetRequiredService<ILogger<NativeHeapTrimmer>>()));

        var app = builder.Build();
        app.MapOperators();
        if (cluster.Enabled && cluster.Bootstraps)
            app.MapClusterBootstrap(cluster);
        app.Map("/", ServeRootAsync);
        var lifetime = app.Lifetime;
        if (settings.ClearTextWarning is { } warning)
            LogClearText(app.Logger, warning);
        if (certificate is not null)
            ReportCertificate(app.Logger, certificate);
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

    /// <summary>The WebSocket URL clients dial (ws:// or wss://), with the real port when the configured one was 0.</summary>
    public static string ListeningUrl(WebApplication app)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "http://127.0.0.1";
        return address.StartsWith("https://", StringComparison.Ordinal) ? "wss://" + address["https://".Length..] : address.Replace("http://", "ws://", StringComparison.Ordinal);
    }

    /// <summary>
    /// TLS sits on the listener itself, below HTTP and any connection middleware, so the WebSocket upgrade, the
    /// Instances page and the health and metrics endpoints all share the one TLS port. Each handshake asks the
    /// certificate for its current options, which is how a renewed certificate comes into service.
    /// </summary>
    private static void UseTls(ListenOptions listen, ServerCertificate? certificate)
    {
        if (certificate is null)
            return;
        listen.Protocols = HttpProtocols.Http1;
        listen.UseHttps(new TlsHandshakeCallbackOptions { OnConnection = _ => ValueTask.FromResult(certificate.ServerOptions()) });
    }

    private static void ReportCertificate(ILogger logger, ServerCertificate certificate)
    {
        if (certificate.SelfSigned)
            LogSelfSigned(logger, certificate.Generated ? "generated" : "reused", certificate.CertificatePath);
        var served = certificate.Certificate;
        var subject = served.Subject;
        var notAfter = served.NotAfter.ToUniversalTime();
        LogFingerprint(logger, certificate.Fingerprint, subject, notAfter);
        certificate.Reloaded += fingerprint => LogReloaded(logger, fingerprint);
        certificate.ReloadFailed += error => LogReloadFailed(logger, certificate.CertificatePath, error.Message);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Warning}")]
    private static partial void LogClearText(ILogger logger, string warning);

    [LoggerMessage(Level = LogLevel.Information, Message = "TLS: self-signed certificate {Origin}, kept in {Path}")]
    private static partial void LogSelfSigned(ILogger logger, string origin, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "TLS certificate SHA-256 fingerprint {Fingerprint} ({Subject}, valid until {NotAfter:yyyy-MM-dd})")]
    private static partial void LogFingerprint(ILogger logger, string fingerprint, string subject, DateTime notAfter);

    [LoggerMessage(Level = LogLevel.Information, Message = "TLS certificate files changed; now serving SHA-256 fingerprint {Fingerprint}")]
    private static partial void LogReloaded(ILogger logger, string fingerprint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS certificate files changed but do not load ({Error}); still serving the previous certificate of {Path}")]
    private static partial void LogReloadFailed(ILogger logger, string path, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connections did not confirm the shutdown notice in time; closing anyway")]
    private static partial void LogShutdownUnconfirmed(ILogger logger);
}
