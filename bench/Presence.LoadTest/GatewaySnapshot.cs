using System.Globalization;
using System.Security.Cryptography;

namespace Presence.LoadTest;

/// <summary>
/// A private copy of the gateway's build output for one run. The Release build in the
/// repository is shared: another engineer's build may replace it between two cases, and
/// a run would then measure two different gateways without saying so.
/// </summary>
internal sealed class GatewaySnapshot : IDisposable
{
    private readonly string _directory;

    private GatewaySnapshot(string directory, string dll, string description)
    {
        _directory = directory;
        Dll = dll;
        Description = description;
    }

    public string Dll { get; }

    /// <summary>The original dll's path, build time and SHA-256, for the report.</summary>
    public string Description { get; }

    /// <exception cref="UsageException">The gateway is not built.</exception>
    public static GatewaySnapshot Take(string dll)
    {
        if (!File.Exists(dll))
            throw new UsageException($"no gateway build at {dll}; run: dotnet build -c Release src/Presence.Gateway");
        var source = Path.GetDirectoryName(Path.GetFullPath(dll))!;
        var target = Path.Combine(Path.GetTempPath(), $"presence-loadtest-{Environment.ProcessId}");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy, overwrite: true);
        }
        var copied = Path.Combine(target, Path.GetFileName(dll));
        using var stream = File.OpenRead(copied);
        var hash = Convert.ToHexStringLower(SHA256.HashData(stream))[..16];
        var built = File.GetLastWriteTimeUtc(dll).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        return new GatewaySnapshot(target, copied, $"{dll} built {built} UTC, sha256 {hash}…");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A server still exiting may hold a file for a moment; the copy is in the temp directory anyway.
        }
    }
}
