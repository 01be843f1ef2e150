using System.Text.Json.Nodes;
using Xunit;
using static Presence.Gateway.Tests.Conformance.Frames;

namespace Presence.Gateway.Tests.Conformance;

/// <summary>
/// Browser pages served elsewhere than the gateway, over real sockets: a loopback page reaching the gateway from this
/// machine is let in (OpenClaw's local-loopback rule), anything further needs <c>gateway.allowed-origins</c>.
/// </summary>
public sealed class BrowserOriginSpecs
{
    private const string RefusalMessage = "origin not allowed (open the Control UI from the gateway host or allow it in gateway.controlUi.allowedOrigins)";

    /// <summary>The identity the real Control UI 2026.9.6 connects with (seen in Chromium).</summary>
    private static JsonObject ControlUi() =>
        Connects.Params("openclaw-control-ui", "webchat", ["operator.admin", "operator.read", "operator.pairing"], instanceId: "control-ui-tab", version: "2026.9.6");

    [Theory]
    [InlineData("http://127.0.0.1:5173")]
    [InlineData("http://localhost:5173")]
    public async Task Should_admit_the_control_ui_from_a_loopback_page_on_another_port_and_track_it(string origin)
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var watcher = await gateway.ConnectAndHandshakeAsync();
        await using var page = await gateway.ConnectAsync(origin: origin);

        await page.HandshakeAsync(ControlUi());

        Assert.True(HasInstance(await watcher.SystemPresenceAsync(), "control-ui-tab"));
    }

    [Fact]
    public async Task Should_refuse_a_loopback_page_whose_request_came_through_a_proxy()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var page = await gateway.ConnectAsync(origin: "http://localhost:5173", headers: new Dictionary<string, string> { ["X-Forwarded-For"] = "203.0.113.7" });

        var response = await page.SendConnectAsync(ControlUi());

        AssertError(response, (string)response["id"]!, "INVALID_REQUEST", RefusalMessage,
            new JsonObject { ["code"] = "CONTROL_UI_ORIGIN_NOT_ALLOWED", ["reason"] = "origin not allowed" });
        AssertClose(await page.WaitForCloseAsync(), 1008, RefusalMessage);
    }

    [Fact]
    public async Task Should_refuse_a_page_from_another_host_with_origin_not_allowed()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var page = await gateway.ConnectAsync(origin: "http://192.0.2.5:5173");

        var response = await page.SendConnectAsync(ControlUi());

        AssertError(response, (string)response["id"]!, "INVALID_REQUEST", RefusalMessage,
            new JsonObject { ["code"] = "CONTROL_UI_ORIGIN_NOT_ALLOWED", ["reason"] = "origin not allowed" });
        AssertClose(await page.WaitForCloseAsync(), 1008, RefusalMessage);
    }

    /// <summary>As <c>PRESENCE_GATEWAY_ALLOWED_ORIGINS</c> sets it: one comma-separated string.</summary>
    [Fact]
    public async Task Should_admit_a_page_from_a_configured_origin_given_as_a_comma_separated_list()
    {
        await using var gateway = await TestGateway.StartAsync("""gateway.allowed-origins = "https://ops.example, http://192.0.2.5:5173" """);
        await using var page = await gateway.ConnectAsync(origin: "http://192.0.2.5:5173", headers: new Dictionary<string, string> { ["X-Forwarded-For"] = "192.0.2.5" });

        await page.HandshakeAsync(ControlUi());
    }

    [Fact]
    public async Task Should_admit_a_page_from_an_origin_given_on_the_command_line()
    {
        await using var gateway = await TestGateway.StartAsync("", "--allowed-origin", "https://ops.example", "--allowed-origin", "http://192.0.2.5:5173");
        await using var page = await gateway.ConnectAsync(origin: "http://192.0.2.5:5173", headers: new Dictionary<string, string> { ["X-Forwarded-For"] = "192.0.2.5" });

        await page.HandshakeAsync(ControlUi());
    }
}
