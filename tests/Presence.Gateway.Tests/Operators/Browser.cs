using PuppeteerSharp;
using Xunit;

namespace Presence.Gateway.Tests.Operators;

/// <summary>
/// One headless Chromium (the Debian package) for the browser tests: starting it costs about a second,
/// so the tests share it, each in its own incognito context (no shared sessionStorage or cookies).
/// Puppeteer is pointed at the installed browser and never downloads one.
/// </summary>
public sealed class Browser : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>Every wait on the page: generous for a loaded 2-core machine, still a prompt failure.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly string[] _extraArguments;
    private readonly string _profile = Path.Combine(Path.GetTempPath(), $"presence-chromium-{Guid.NewGuid():N}");
    private IBrowser? _browser;

    /// <summary>The shared browser of the <see cref="BrowserTests"/> collection.</summary>
    public Browser()
        : this([])
    {
    }

    /// <summary>A browser of its own, with command-line switches the shared one must not have (e.g. a trusted certificate).</summary>
    internal Browser(params string[] extraArguments) => _extraArguments = extraArguments;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
            throw new InvalidOperationException($"{ExecutablePath} is missing: apt-get install -y chromium (tests/run.sh does it).");
        _browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            Headless = true,
            ExecutablePath = ExecutablePath,
            UserDataDir = _profile,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", .. _extraArguments,
            ],
            Timeout = (int)Timeout.TotalMilliseconds,
        });
    }

    /// <summary>A fresh 1280×720 page in a context of its own.</summary>
    public async Task<BrowserPage> NewPageAsync()
    {
        var context = await _browser!.CreateBrowserContextAsync();
        var page = await context.NewPageAsync();
        page.DefaultTimeout = (int)Timeout.TotalMilliseconds;
        await page.SetViewportAsync(new ViewPortOptions { Width = 1280, Height = 720 });
        return new BrowserPage(context, page);
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
            await _browser.DisposeAsync();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still be releasing its profile; it is a temp directory.
        }
    }
}

/// <summary>A page and its private browser context, closed together.</summary>
public sealed class BrowserPage(IBrowserContext context, IPage page) : IAsyncDisposable
{
    public IPage Page { get; } = page;

    public async ValueTask DisposeAsync() => await context.CloseAsync();
}

[CollectionDefinition(Name)]
public sealed class BrowserTests : ICollectionFixture<Browser>
{
    public const string Name = "browser";
}

/// <summary>Where test artifacts go: <c>artifacts/</c> at the repository root.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Presence.Actors.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"No Presence.Actors.sln above {AppContext.BaseDirectory}.");
    }
}
