using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;
using PuppeteerSharp;
using Presence.Gateway.Tests.Conformance;
using Xunit;

namespace Presence.Gateway.Tests.Operators;

/// <summary>
/// OpenClaw's own Control UI (the <c>openclaw</c> package's <c>dist/control-ui</c>, installed by <c>tests/run.sh</c>
/// into <c>tests/control-ui</c>) as a second view of this gateway's presence: served on a loopback port of its own,
/// as its docs serve it (<c>http://localhost:5173/?gatewayUrl=…#token=…</c>), in real Chromium.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class ControlUiSpecs(Browser browser)
{
    /// <summary>Every element of the page, shadow roots included (the UI is made of Lit components).</summary>
    private const string Deep = """
        (root => { const all = []; const walk = node => { for (const el of node.querySelectorAll('*')) { all.push(el); if (el.shadowRoot) walk(el.shadowRoot); } }; walk(root); return all; })
        """;

    /// <summary>The Devices page component, once the router has mounted it.</summary>
    private const string DevicesPage = $"{Deep}(document).find(e => e.localName === 'openclaw-devices-page')";

    /// <summary>What the Devices page shows, as text.</summary>
    private const string DevicesPageText = $"() => {{ const p = {DevicesPage}; return p ? {Deep}(p.shadowRoot ?? p).flatMap(e => [...e.childNodes]).filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.data.trim()).filter(Boolean).join(' | ') : '(no devices page)'; }}";

    [Fact]
    public async Task Should_list_this_gateway_rows_on_its_devices_page_without_error_boxes()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var mac = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice());
        await using var controlUi = await StaticSite.StartAsync(ControlUiFiles());
        await using var session = await browser.NewPageAsync();
        var page = session.Page;
        var answers = await RecordAnswersAsync(page);

        // The link the docs give for a Control UI served apart from its gateway; the UI asks before switching.
        var gatewayUrl = Uri.EscapeDataString(gateway.Url.ToString().TrimEnd('/'));
        await page.GoToAsync($"{controlUi.Origin}/?gatewayUrl={gatewayUrl}#token={TestGateway.Token}", WaitUntilNavigation.DOMContentLoaded);
        await page.WaitForFunctionAsync(
            $"() => {{ const b = {Deep}(document).find(e => e.tagName === 'BUTTON' && e.textContent.trim().startsWith('Switch to')); b?.click(); return !!b; }}");
        await WaitForAsync(() => answers.ContainsKey("hello-ok"), "the gateway's hello-ok");

        // Settings → Devices, through the app's own router (a deep link needs the gateway's base-path stamping).
        await page.EvaluateExpressionAsync("history.pushState({}, '', '/settings/devices'); dispatchEvent(new PopStateEvent('popstate', { state: {} }))");
        string[] expected = [TestGateway.SelfHost, "Probe-UI-Host", "Security"];
        try
        {
            await page.WaitForFunctionAsync($"texts => texts.every(t => ({DevicesPageText})().includes(t))", new WaitForFunctionOptions(), new object[] { expected });
        }
        catch (WaitTaskTimeoutException)
        {
            Assert.Fail($"The Devices page never showed {string.Join(", ", expected)}; it shows: {await page.EvaluateFunctionAsync<string>(DevicesPageText)}");
        }

        foreach (var method in new[] { "device.pair.list", "exec.approvals.get", "node.list", "system-presence" })
            await WaitForAsync(() => answers.TryGetValue(method, out var ok) && ok, $"a successful answer to {method}");
        var errorBoxes = await page.EvaluateFunctionAsync<string[]>(
            $"() => {Deep}({DevicesPage}.shadowRoot ?? {DevicesPage}).filter(e => e.matches('.callout.danger')).map(e => e.textContent.trim())");
        Assert.Empty(errorBoxes);

        var screenshots = Path.Combine(Repository.Root, "artifacts", "screenshots");
        Directory.CreateDirectory(screenshots);
        await page.ScreenshotAsync(Path.Combine(screenshots, "control-ui-devices.png"));
    }

    /// <summary>
    /// Whether each request the page made was answered with <c>ok:true</c>, by method (and <c>hello-ok</c> once
    /// connected), read from Chromium's own record of the WebSocket frames.
    /// </summary>
    private static async Task<ConcurrentDictionary<string, bool>> RecordAnswersAsync(IPage page)
    {
        var methods = new ConcurrentDictionary<string, string>();
        var answers = new ConcurrentDictionary<string, bool>();
        var cdp = await page.CreateCDPSessionAsync();
        cdp.MessageReceived += (_, e) =>
        {
            if (e.MessageID is not ("Network.webSocketFrameSent" or "Network.webSocketFrameReceived"))
                return;
            var payload = e.MessageData.GetProperty("response").GetProperty("payloadData").GetString();
            if (payload is null || JsonNode.Parse(payload) is not JsonObject frame)
                return;
            var id = (string?)frame["id"];
            if (id is null)
                return;
            if ((string?)frame["type"] == "req")
                methods[id] = (string)frame["method"]!;
            else if ((string?)frame["type"] == "res" && methods.TryGetValue(id, out var method))
                answers[method == "connect" && (string?)frame["payload"]?["type"] == "hello-ok" ? "hello-ok" : method] = (bool?)frame["ok"] == true;
        };
        await cdp.SendAsync("Network.enable");
        return answers;
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(Browser.Timeout);
        while (!condition())
        {
            if (timeout.IsCancellationRequested)
                Assert.Fail($"Timed out waiting for {what}.");
            await Task.Delay(50, CancellationToken.None);
        }
    }

    private static string ControlUiFiles()
    {
        var root = Path.Combine(Repository.Root, "tests", "control-ui", "node_modules", "openclaw", "dist", "control-ui");
        if (!File.Exists(Path.Combine(root, "index.html")))
            throw new InvalidOperationException($"{root} is missing: run tests/run.sh, or (cd tests/control-ui && npm ci --ignore-scripts).");
        return root;
    }

    /// <summary>A folder served as a single-page app on 127.0.0.1 and a free port, as a dev server would.</summary>
    private sealed class StaticSite(WebApplication app, string origin) : IAsyncDisposable
    {
        public string Origin { get; } = origin;

        public static async Task<StaticSite> StartAsync(string root)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var files = new PhysicalFileProvider(root);
            app.UseStaticFiles(new StaticFileOptions { FileProvider = files, ServeUnknownFileTypes = true });
            app.MapFallbackToFile("index.html", new StaticFileOptions { FileProvider = files });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            return new StaticSite(app, address);
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
