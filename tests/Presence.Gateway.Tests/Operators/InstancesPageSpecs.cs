using System.Text.Json.Nodes;
using PuppeteerSharp;
using Presence.Gateway.Tests.Conformance;
using Xunit;

namespace Presence.Gateway.Tests.Operators;

/// <summary>The Instances page in a real headless Chromium, against a real in-process gateway.</summary>
[Collection(BrowserTests.Name)]
public sealed class InstancesPageSpecs(Browser browser)
{
    private const string SelfKey = TestGateway.SelfInstanceId;

    [Fact]
    public async Task Should_render_one_row_per_entry_with_the_gateway_pinned_first()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var mac = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice());
        await using var session = await browser.NewPageAsync();
        var page = new InstancesPageDriver(session.Page);

        await page.OpenAsync(gateway);
        await page.WaitForConnectedAsync();
        await page.WaitForRowAsync("probe-ui-instance-1");
        var ownKey = await page.OwnKeyAsync();
        await page.WaitForRowAsync(ownKey);

        var keys = await page.KeysAsync();
        Assert.Equal(SelfKey, keys[0]);
        Assert.Equal(3, keys.Length);

        var self = await page.RowAsync(SelfKey);
        Assert.NotNull(self);
        Assert.True(self.Gateway);
        Assert.Equal((TestGateway.SelfHost, TestGateway.SelfIp, "gateway", "self"), (self.Host, self.Ip, self.Mode, self.Source));
        Assert.Equal(("Active", "active"), (self.Status, self.DataStatus));

        var row = await page.RowAsync("probe-ui-instance-1");
        Assert.NotNull(row);
        Assert.False(row.Gateway);
        Assert.Equal("Probe-UI-Host", row.Host);
        // A loopback peer is never written as ip (presence-rules.md, loopback caveat).
        Assert.Equal("—", row.Ip);
        Assert.Equal("1.2.3", row.Version);
        Assert.Equal("Mac · Mac15,3 · macos 15.1", row.Device);
        Assert.Equal("ui", row.Mode);
        Assert.Equal("—", row.LastInput);
        Assert.Equal(("Active", "connect"), (row.Status, row.Source));
        Assert.Matches(@"^(just now|\d+s ago) · connect$", row.Updated);
        var listed = Frames.SingleRowByInstance(await mac.SystemPresenceAsync(), "Probe-UI-Instance-1");
        Assert.Equal((string?)listed["text"], row.Title);

        Assert.Equal("3", await page.TextAsync("#count-active"));
        Assert.Equal("0", await page.TextAsync("#count-idle"));
        Assert.Equal("0", await page.TextAsync("#count-stale"));
        Assert.Equal("3", await page.TextAsync("#count-total"));
        Assert.False(await page.VisibleAsync("#empty"));
        // The token left the address bar for sessionStorage.
        Assert.Equal("", await session.Page.EvaluateExpressionAsync<string>("location.hash"));
        Assert.Equal(TestGateway.Token, await session.Page.EvaluateExpressionAsync<string>("sessionStorage.getItem('presence.instances.token')"));
    }

    [Fact]
    public async Task Should_show_a_client_that_connects_after_the_page_loaded_without_a_reload_or_rebuilding_other_rows()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var session = await browser.NewPageAsync();
        var page = new InstancesPageDriver(session.Page);
        await page.OpenAsync(gateway);
        await page.WaitForConnectedAsync();
        await page.WaitForRowAsync(SelfKey);
        // Marks the gateway's row element, to prove the update reuses it (keyed rows) rather than redrawing the table.
        await session.Page.EvaluateExpressionAsync($"document.querySelector('tr[data-key=\"{SelfKey}\"]').dataset.marked = 'yes'");

        await using var late = await gateway.ConnectAndHandshakeAsync(Connects.Params("test", "ui", ["operator.read"], instanceId: "late-client", displayName: "Late-Host"));

        await page.WaitForRowAsync("late-client");
        var row = await page.RowAsync("late-client");
        Assert.Equal(("Late-Host", "connect", "Active"), (row!.Host, row.Source, row.Status));
        Assert.Equal("yes", await session.Page.EvaluateExpressionAsync<string>($"document.querySelector('tr[data-key=\"{SelfKey}\"]').dataset.marked"));
        Assert.Equal(SelfKey, (await page.KeysAsync())[0]);
    }

    [Fact]
    public async Task Should_change_the_source_to_disconnect_when_a_client_leaves()
    {
        await using var gateway = await TestGateway.StartAsync();
        var leaving = await gateway.ConnectAndHandshakeAsync(Connects.Params("test", "ui", ["operator.read"], instanceId: "leaving-client", displayName: "Leaving-Host"));
        await using var session = await browser.NewPageAsync();
        var page = new InstancesPageDriver(session.Page);
        await page.OpenAsync(gateway);
        await page.WaitForRowAsync("leaving-client");
        Assert.Equal("connect", (await page.RowAsync("leaving-client"))!.Source);

        await leaving.DisposeAsync();

        // The row stays (presence is recent history), shows that its client left, and when.
        await page.WaitForAsync("document.querySelector('tr[data-key=\"leaving-client\"] .source')?.textContent === 'disconnect'");
        var row = await page.RowAsync("leaving-client");
        Assert.Equal(("Leaving-Host", "Left", "left"), (row!.Host, row.Status, row.DataStatus));
        Assert.Matches(@"^left (just now|\d+s ago) · disconnect$", row.Updated);
        Assert.Equal("1", await page.TextAsync("#count-left"));
    }

    [Fact]
    public async Task Should_show_instance_ids_and_explain_look_alike_rows_on_hover()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var clients = await LookAlikeClients.ConnectAsync(gateway);
        await using var session = await browser.NewPageAsync();
        var page = new InstancesPageDriver(session.Page);

        await page.OpenAsync(gateway);
        await page.WaitForAsync("document.querySelectorAll('#rows tr[data-duplicate-check]').length === 4");

        var rows = await page.RowsAsync();
        var twins = rows.Where(row => row.Host == "Twin-Host").ToList();
        Assert.Equal(2, twins.Count);
        Assert.All(twins, row => Assert.Equal(("—", "3"), (row.Instance, row.DuplicateCheck)));
        Assert.All(twins, row => Assert.Contains("send a stable client.instanceId", row.DuplicateWhy, StringComparison.Ordinal));
        var app = Assert.Single(rows, row => row.Instance == "Probe-UI-Instance-1");
        Assert.Equal("1", app.DuplicateCheck);
        var beacon = Assert.Single(rows, row => row.Host == "Probe-UI-Host" && row.Instance == "—");
        Assert.Equal("2", beacon.DuplicateCheck);
        Assert.Contains("same instanceId in every beacon", beacon.DuplicateWhy, StringComparison.Ordinal);
        // Rows with one client each are not flagged, the gateway's and this page's own included.
        Assert.Equal(4, rows.Count(row => row.DuplicateCheck.Length > 0));
        Assert.Equal(TestGateway.SelfInstanceId, rows[0].Instance);
    }

    [Fact]
    public async Task Should_sort_filter_count_what_it_shows_and_open_a_row_with_all_its_fields()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var cli = await gateway.ConnectAndHandshakeAsync(Connects.Cli());
        for (var i = 1; i <= 3; i++)
            await cli.BeaconAsync(Beacon(i, version: "2026.9.6"));
        await using var session = await browser.NewPageAsync();
        var page = new InstancesPageDriver(session.Page);
        await page.OpenAsync(gateway);
        await page.WaitForAsync("document.querySelectorAll('#rows tr').length === 5");
        var ownKey = await page.OwnKeyAsync();

        // Host, descending (second click): node-003 first; the gateway is sorted like any other row.
        await session.Page.ClickAsync("th[data-sort=host]");
        await session.Page.ClickAsync("th[data-sort=host]");
        await page.WaitForAsync("document.querySelector('th[data-sort=host]').getAttribute('aria-sort') === 'descending'");
        await page.WaitForAsync("document.querySelector('#rows tr').dataset.key === 'node-003'");
        // Updated: the most recent first, which is this page's own row (it connected after the beacons).
        await session.Page.ClickAsync("th[data-sort=updated]");
        await page.WaitForAsync($"document.querySelector('#rows tr').dataset.key === '{ownKey}'");

        await session.Page.TypeAsync("#filter", "node-00");
        await page.WaitForAsync("document.querySelectorAll('#rows tr:not([hidden])').length === 3");
        Assert.Equal("3", await page.TextAsync("#count-total"));
        Assert.Equal("3", await page.TextAsync("#count-active"));

        await session.Page.ClickAsync("#rows tr[data-key='node-002'] td.host");
        await page.WaitForAsync("!document.querySelector('#details').hidden");
        var details = await page.TextAsync("#details-text");
        var fields = System.Text.Json.Nodes.JsonNode.Parse(details)!;
        Assert.Equal("node-002", (string?)fields["instanceId"]);
        Assert.StartsWith("Node: node-002 (192.0.2.3) · app 2026.9.6", (string?)fields["text"], StringComparison.Ordinal);
        Assert.Equal("periodic", (string?)fields["reason"]);
        Assert.NotNull(fields["ts"]);
    }

    [Fact]
    public async Task Should_fit_a_phone_width_screen_and_leave_a_screenshot_in_docs()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var mac = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice());
        await using var cli = await gateway.ConnectAndHandshakeAsync(Connects.Cli());
        for (var i = 1; i <= 3; i++)
            await cli.BeaconAsync(Beacon(i, version: "2026.9.6"));
        await using var session = await browser.NewPageAsync();
        await session.Page.SetViewportAsync(new ViewPortOptions { Width = 390, Height = 844, IsMobile = true, DeviceScaleFactor = 2, HasTouch = true });
        var page = new InstancesPageDriver(session.Page);

        await page.OpenAsync(gateway);
        await page.WaitForAsync("document.querySelectorAll('#rows tr').length === 6");
        await session.Page.ClickAsync("#rows tr[data-key='node-001'] td.host");
        await page.WaitForAsync("!document.querySelector('#details').hidden");

        // Nothing wider than the screen: no sideways scrolling, and status, host and updated still show.
        var wider = await session.Page.EvaluateExpressionAsync<string>(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 390.5).map(e => e.tagName + '.' + e.className + '#' + e.id + ':' + Math.round(e.getBoundingClientRect().right)).join(', ')");
        Assert.True(await session.Page.EvaluateExpressionAsync<bool>("document.documentElement.scrollWidth <= 390"), $"the page scrolls sideways at 390 px: {wider}");
        Assert.True(await page.VisibleAsync("#rows tr[data-key='node-001'] td.updated"));
        Assert.False(await page.VisibleAsync("#rows tr[data-key='node-001'] td.ip"));
        var artifact = Path.Combine(Repository.Root, "artifacts", "screenshots", "instances-phone.png");
        Directory.CreateDirectory(Path.GetDirectoryName(artifact)!);
        await session.Page.ScreenshotAsync(artifact, new ScreenshotOptions { FullPage = true });
        var docs = Path.Combine(Repository.Root, "docs", "instances-phone.png");
        if (!File.Exists(docs) || Environment.GetEnvironmentVariable("PRESENCE_UPDATE_DOCS") == "1")
            File.Copy(artifact, docs, overwrite: true);
    }

    /// <summary>
    /// Ages on the page's clock, moved instead of waited for: a hook installed before the page's script holds
    /// <c>Date.now</c> at a chosen instant (the gateway runs on this machine's clock, and its ticks are an hour
    /// apart here, so the page keeps the offset it measured at hello: a few milliseconds).
    /// </summary>
    [Theory]
    [InlineData(119_000, "active", "Active", 118_000, "left", "Left")]
    [InlineData(121_000, "idle", "Idle", 122_000, "idle", "Idle")]
    [InlineData(299_000, "idle", "Idle", 299_000, "idle", "Idle")]
    [InlineData(301_000, "stale", "Stale", 302_000, "stale", "Stale")]
    public async Task Should_show_each_status_by_the_age_of_ts_on_either_side_of_its_threshold(int liveAgeMs, string liveStatus, string liveLabel, int leftAgeMs, string leftStatus, string leftLabel)
    {
        await using var gateway = await TestGateway.StartAsync("gateway.tick-interval = 1h");
        await using var live = await gateway.ConnectAndHandshakeAsync(Connects.Params("test", "ui", ["operator.read"], instanceId: "live-client", displayName: "Live-Host"));
        var leaving = await gateway.ConnectAndHandshakeAsync(Connects.Params("test", "ui", ["operator.read"], instanceId: "leaving-client", displayName: "Leaving-Host"));
        await leaving.DisposeAsync();
        await using var session = await browser.NewPageAsync();
        await session.Page.EvaluateExpressionOnNewDocumentAsync(
            "(() => { const real = Date.now.bind(Date); let held = null; Date.now = () => held ?? real(); window.holdClock = (ms) => { held = ms; }; })()");
        var page = new InstancesPageDriver(session.Page);
        await page.OpenAsync(gateway);
        await page.WaitForAsync("document.querySelector('tr[data-key=\"leaving-client\"]')?.dataset.status === 'left'");
        var list = await live.SystemPresenceAsync();
        var liveTs = (long)Frames.SingleRowByInstance(list, "live-client")["ts"]!;
        var leftTs = (long)Frames.SingleRowByInstance(list, "leaving-client")["ts"]!;

        // Each wait also needs the age the held clock gives, so that it holds only after the page's next refresh.
        await session.Page.EvaluateExpressionAsync($"holdClock({liveTs + liveAgeMs})");
        await page.WaitForAsync($"document.querySelector('tr[data-key=\"live-client\"] td.updated')?.textContent.startsWith('{liveAgeMs / 60_000}m ago')");
        var liveRow = await page.RowAsync("live-client");
        Assert.Equal((liveStatus, liveLabel), (liveRow!.DataStatus, liveRow.Status));

        await session.Page.EvaluateExpressionAsync($"holdClock({leftTs + leftAgeMs})");
        await page.WaitForAsync($"document.querySelector('tr[data-key=\"leaving-client\"] td.updated')?.textContent.startsWith('left {leftAgeMs / 60_000}m ago')");
        var left = await page.RowAsync("leaving-client");
        Assert.Equal((leftStatus, leftLabel), (left!.DataStatus, left.Status));
    }

    [Fact]
    public async Task Should_say_clearly_that_the_token_was_wrong_and_connect_once_the_right_one_is_entered()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var session = await browser.NewPageAsync();
        var page = new InstancesPageDriver(session.Page);

        await page.OpenAsync(gateway, token: "not-the-secret");

        await session.Page.WaitForSelectorAsync("#message[data-kind=\"auth\"]", new WaitForSelectorOptions { Visible = true });
        var message = await page.TextAsync("#message");
        Assert.Contains("rejected the token", message, StringComparison.Ordinal);
        Assert.Contains("gateway token mismatch", message, StringComparison.Ordinal);
        Assert.True(await page.VisibleAsync("#token-form"));
        Assert.Equal("failed", await session.Page.EvaluateExpressionAsync<string>("document.getElementById('connection').dataset.state"));
        Assert.Empty(await page.KeysAsync());

        await session.Page.TypeAsync("#token-input", TestGateway.Token);
        await session.Page.ClickAsync("#token-form button[type=submit]");

        await page.WaitForConnectedAsync();
        await page.WaitForRowAsync(SelfKey);
        Assert.False(await page.VisibleAsync("#message"));
        Assert.False(await page.VisibleAsync("#token-form"));
    }

    [Fact]
    public async Task Should_keep_200_rows_in_place_while_every_one_of_them_updates()
    {
        await using var gateway = await TestGateway.StartAsync();
        // The CLI identity is untracked, so the rows are the gateway, the page and the beacons: 200, the default bound.
        await using var sender = await gateway.ConnectAndHandshakeAsync(Connects.Cli());
        const int Beacons = 198;
        await using var session = await browser.NewPageAsync();
        var page = new InstancesPageDriver(session.Page);
        await page.OpenAsync(gateway);
        await page.WaitForConnectedAsync();

        for (var i = 1; i <= Beacons; i++)
            await sender.BeaconAsync(Beacon(i, version: "1.0"));
        await page.WaitForAsync("document.querySelectorAll('#rows tr').length === 200");
        Assert.Equal("200", await page.TextAsync("#count-total"));

        // Watches the table from here on: an update must only rewrite cells, never insert, remove or move rows.
        await session.Page.EvaluateExpressionAsync("""
            window.rowMoves = 0;
            window.rowsBefore = new Set(document.querySelectorAll('#rows tr'));
            new MutationObserver(records => { window.rowMoves += records.length; })
              .observe(document.getElementById('rows'), { childList: true });
            """);
        for (var i = 1; i <= Beacons; i++)
            await sender.BeaconAsync(Beacon(i, version: "2.0"));

        await page.WaitForAsync($"[...document.querySelectorAll('#rows td.version')].filter(td => td.textContent === '2.0').length === {Beacons}");
        Assert.Equal(0, await session.Page.EvaluateExpressionAsync<int>("window.rowMoves"));
        Assert.True(await session.Page.EvaluateExpressionAsync<bool>("[...document.querySelectorAll('#rows tr')].every(tr => window.rowsBefore.has(tr))"));
        var row = await page.RowAsync("node-007");
        Assert.Equal(("node-007", "heartbeat", "Linux · linux"), (row!.Host, row.Source, row.Device));
        Assert.Matches(@"^\d+s ago$", row.LastInput);
    }

    [Fact]
    public async Task Should_write_a_screenshot_of_a_busy_page()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var mac = await gateway.ConnectAndHandshakeAsync(Connects.UiNoDevice());
        await using var node = await gateway.ConnectAndHandshakeAsync(Connects.Node());
        await using var cli = await gateway.ConnectAndHandshakeAsync(Connects.Cli());
        for (var i = 1; i <= 4; i++)
            await cli.BeaconAsync(Beacon(i, version: "2026.9.6"));
        var leaving = await gateway.ConnectAndHandshakeAsync(Connects.Params("webchat", "webchat", ["operator.read"], instanceId: "chat-tab", displayName: "Web chat (Firefox)", platform: "linux"), origin: gateway.OwnOrigin);
        await leaving.DisposeAsync();
        await using var session = await browser.NewPageAsync();
        var page = new InstancesPageDriver(session.Page);

        await page.OpenAsync(gateway);
        await page.WaitForAsync("document.querySelector('tr[data-key=\"chat-tab\"] .source')?.textContent === 'disconnect'");
        await page.WaitForAsync("document.querySelectorAll('#rows tr').length === 9");

        var artifact = Path.Combine(Repository.Root, "artifacts", "screenshots", "instances.png");
        Directory.CreateDirectory(Path.GetDirectoryName(artifact)!);
        await session.Page.ScreenshotAsync(artifact, new ScreenshotOptions { FullPage = true });
        Assert.True(new FileInfo(artifact).Length > 10_000, "the screenshot is suspiciously small");
        // The README's picture is refreshed only on request, so that test runs leave tracked files alone.
        var docs = Path.Combine(Repository.Root, "docs", "instances.png");
        if (!File.Exists(docs) || Environment.GetEnvironmentVariable("PRESENCE_UPDATE_DOCS") == "1")
            File.Copy(artifact, docs, overwrite: true);
    }

    /// <summary>A periodic beacon as a desktop node sends it, for the <paramref name="n"/>-th of many hosts.</summary>
    private static JsonObject Beacon(int n, string version)
    {
        var host = $"node-{n:000}";
        var ip = $"192.0.2.{n % 250 + 1}";
        return new JsonObject
        {
            ["text"] = $"Node: {host} ({ip}) · app {version} · last input {n % 90}s ago · mode ui · reason periodic",
            ["instanceId"] = host,
            ["host"] = host,
            ["ip"] = ip,
            ["mode"] = "ui",
            ["version"] = version,
            ["platform"] = "linux",
            ["deviceFamily"] = "Linux",
            ["lastInputSeconds"] = n % 90,
            ["reason"] = "periodic",
        };
    }
}
