using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Reflection;

namespace Presence.Actors.Domain;

/// <summary>The gateway's own row: seeded at start-up, refreshed on every sweep, never expired or evicted.</summary>
public static class SelfEntry
{
    public static PresenceEntry Create(string host, string? ip, string version, string platform, string deviceFamily, string instanceId, long now) => new()
    {
        Host = host,
        Ip = ip,
        Version = version,
        Platform = platform,
        DeviceFamily = deviceFamily,
        Mode = "gateway",
        Reason = "self",
        InstanceId = instanceId,
        Text = ip is null
            ? $"Gateway: {host} · app {version} · mode gateway · reason self"
            : $"Gateway: {host} ({ip}) · app {version} · mode gateway · reason self",
        Ts = now,
    };

    /// <summary>Describes this process on this machine, with a fresh instance id.</summary>
    public static PresenceEntry Detect(long now)
    {
        var version = typeof(SelfEntry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
        var (platform, family) = DescribePlatform();
        return Create(Environment.MachineName, PrimaryIPv4(), version, platform, family, Guid.NewGuid().ToString(), now);
    }

    private static (string Platform, string DeviceFamily) DescribePlatform()
    {
        var release = Environment.OSVersion.Version.ToString();
        if (OperatingSystem.IsMacOS())
            return ($"macos {release}", "Mac");
        if (OperatingSystem.IsWindows())
            return ($"windows {release}", "Windows");
        // The kernel release, as the OpenClaw gateway reports it ("linux 6.1.0-18-amd64").
        const string KernelRelease = "/proc/sys/kernel/osrelease";
        if (File.Exists(KernelRelease))
            release = File.ReadAllText(KernelRelease).Trim();
        return ($"linux {release}", "Linux");
    }

    /// <summary>Best effort: the first IPv4 address of an interface that is up and not loopback.</summary>
    private static string? PrimaryIPv4()
    {
        try
        {
            return NetworkInterface.GetAllNetworkInterfaces()
                .Where(nic => nic.OperationalStatus == OperationalStatus.Up && nic.NetworkInterfaceType != NetworkInterfaceType.Loopback)
                .SelectMany(nic => nic.GetIPProperties().UnicastAddresses)
                .Select(unicast => unicast.Address)
                .FirstOrDefault(address => address.AddressFamily == AddressFamily.InterNetwork && !Loopback.IsLoopback(address))
                ?.ToString();
        }
        catch (NetworkInformationException)
        {
            return null;
        }
    }
}
