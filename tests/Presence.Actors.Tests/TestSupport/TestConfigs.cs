using Akka.Configuration;
using Presence.Actors.Hosting;

namespace Presence.Actors.Tests.TestSupport;

/// <summary>Configuration shared by the specs: virtual time and presence settings built from HOCON, as production reads them.</summary>
internal static class TestConfigs
{
    public static readonly Config TestScheduler =
        ConfigurationFactory.ParseString("akka.scheduler.implementation = \"Akka.TestKit.TestScheduler, Akka.TestKit\"");

    public static PresenceSettings Settings(string hocon = "") => PresenceSettings.Create(ConfigurationFactory.ParseString(hocon));
}
