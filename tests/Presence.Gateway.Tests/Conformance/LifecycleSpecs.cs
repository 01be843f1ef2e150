using System.Text.Json.Nodes;
using Xunit;
using static Presence.Gateway.Tests.Conformance.Frames;

namespace Presence.Gateway.Tests.Conformance;

/// <summary>captures/09-auth-none.json and 09-shutdown.json.</summary>
public sealed class LifecycleSpecs
{
    [Fact]
    public async Task Should_admit_the_backend_identity_without_credentials_in_auth_none()
    {
        await using var gateway = await TestGateway.StartAsync("", "--auth", "none");
        await using var client = await gateway.ConnectAsync();

        var hello = await client.HandshakeAsync(Connects.Backend(token: null));

        Assert.Equal("operator", (string?)hello["auth"]!["role"]);
        Assert.True(JsonNode.DeepEquals(new JsonArray("operator.admin"), hello["auth"]!["scopes"]));
    }

    [Fact]
    public async Task Should_ignore_a_token_sent_to_an_auth_none_gateway()
    {
        await using var gateway = await TestGateway.StartAsync("", "--auth", "none");
        await using var client = await gateway.ConnectAsync();

        var hello = await client.HandshakeAsync(Connects.Backend());

        Assert.True(JsonNode.DeepEquals(new JsonArray("operator.admin"), hello["auth"]!["scopes"]));
    }

    /// <summary>
    /// OpenClaw in auth none still demands a device identity from cli/cli and test/ui (NOT_PAIRED).
    /// This gateway's auth none admits every identity on its loopback bind ("no setup", README),
    /// since it does not do device pairing at all. Deviation by design.
    /// </summary>
    [Theory]
    [InlineData("cli", "cli")]
    [InlineData("test", "ui")]
    public async Task Should_admit_any_identity_without_credentials_in_auth_none(string clientId, string mode)
    {
        await using var gateway = await TestGateway.StartAsync("", "--auth", "none");
        await using var client = await gateway.ConnectAsync();

        var hello = await client.HandshakeAsync(Connects.Params(clientId, mode, ["operator.read"], token: null));

        Assert.True(JsonNode.DeepEquals(new JsonArray("operator.read"), hello["auth"]!["scopes"]));
    }

    /// <summary>A password-mode gateway takes the secret in either field too, and words its mismatch after the token one.</summary>
    [Fact]
    public async Task Should_accept_the_password_in_either_field_in_password_mode()
    {
        await using var gateway = await TestGateway.StartAsync("", "--auth", "password", "--password", "pw");
        await using var viaToken = await gateway.ConnectAsync();
        await using var wrong = await gateway.ConnectAsync();

        await viaToken.HandshakeAsync(Connects.Params("gateway-client", "backend", ["operator.admin"], token: "pw"));
        var response = await wrong.SendConnectAsync(Connects.Params("gateway-client", "backend", ["operator.admin"], token: "nope"));

        Assert.False(response["ok"]!.GetValue<bool>());
        Assert.Equal("AUTH_PASSWORD_MISMATCH", (string?)response["error"]!["details"]!["code"]);
        Assert.Equal(1008, (await wrong.WaitForCloseAsync()).Code);
    }

    [Fact]
    public async Task Should_announce_shutdown_then_close_1012_on_a_graceful_stop()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAndHandshakeAsync();
        await client.ReceivePresenceAsync();
        await using var pending = await gateway.ConnectAsync();
        await pending.ReceiveChallengeAsync();
        var stopping = gateway.StopAsync();

        var shutdown = await client.ReceiveEventAsync("shutdown");
        var close = await client.WaitForCloseAsync();

        Assert.True(JsonNode.DeepEquals(new JsonObject { ["reason"] = "gateway stopping" }, shutdown["payload"]), shutdown.ToJsonString());
        AssertContiguousFromOne(Seqs(client.History));
        AssertClose(close, 1012, "service restart");
        // A socket still in its handshake is closed the same way, without the event.
        AssertClose(await pending.WaitForCloseAsync(), 1012, "service restart");
        Assert.DoesNotContain(pending.History, f => IsEvent(f, "shutdown"));
        await stopping.WaitAsync(TestClient.DefaultTimeout);
    }
}
