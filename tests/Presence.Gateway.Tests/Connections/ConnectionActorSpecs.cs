using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Presence.Actors.Domain;
using Presence.Actors.PresenceManager;
using Presence.Gateway.Connections;
using Presence.Gateway.Protocol;
using Presence.Gateway.Tests.Conformance;
using Xunit;
using static Presence.Actors.PresenceManager.PresenceQueries;

namespace Presence.Gateway.Tests.Connections;

/// <summary>
/// The ConnectionActor on its own: a recording connection in place of the socket, probes in place of the
/// PresenceManager and the supervisor, so every message it sends and every frame it answers can be checked in order.
/// </summary>
public sealed class ConnectionActorSpecs : TestKit
{
    private static readonly GatewaySettings Settings = GatewaySettings.Create(ConfigurationFactory.ParseString($"gateway {{ auth = token, token = {TestGateway.Token} }}"));

    private static readonly PresenceSnapshot Snapshot =
        PresenceState.Create(SelfEntry.Create("gw", "192.0.2.1", "1.0", "linux", "Linux", "gw-self", 1_000), new PresenceLimits(300_000, 200)).ToSnapshot();

    private readonly RecordingConnection _connection = new();
    private readonly TestProbe _manager;
    private readonly TestProbe _supervisor;
    private readonly IActorRef _actor;

    public ConnectionActorSpecs()
        : base(GatewaySettings.DefaultConfig)
    {
        _manager = CreateTestProbe();
        _supervisor = CreateTestProbe();
        var options = new ConnectionOptions(Settings, new Admission(Settings.Limits), new HashSet<string> { "cli" }, TimeSpan.FromSeconds(3), "test", 0);
        _actor = _supervisor.ChildActorOf(ConnectionActor.Props(_connection, _manager.Ref, options));
    }

    [Fact]
    public async Task Should_write_the_clients_row_before_asking_for_the_list_its_hello_shows()
    {
        Frame("c1", "connect", Connects.UiNoDevice("Inst-1"));

        var upsert = await _manager.ExpectMsgAsync<PresenceCommands.Upsert>();
        Assert.Equal(PresenceKey.From("inst-1"), upsert.Key);
        Assert.Equal(_connection.Info.Id, upsert.Owner);
        await _manager.ExpectMsgAsync<GetPresence>();
        Assert.DoesNotContain("c1", _connection.ResponseIds);

        _manager.Reply(new GetPresenceResponse(Snapshot));

        await AwaitAssertAsync(() => Assert.Equal(["c1"], _connection.ResponseIds));
        Assert.Equal("hello-ok", (string?)_connection.Sent[^1]["payload"]!["type"]);
        Assert.Equal(Settings.MaxPayload, _connection.MaxPayload);
        await _supervisor.ExpectMsgAsync<ConnectionsSupervisorActor.ConnectionTracked>();
        var authenticated = await _supervisor.ExpectMsgAsync<ConnectionsSupervisorActor.ConnectionAuthenticated>();
        Assert.True(authenticated.ReadsPresence);
    }

    [Fact]
    public async Task Should_answer_requests_behind_a_read_only_after_the_read_in_the_order_sent()
    {
        await ConnectAsync();

        Frame("p1", "system-presence");
        Frame("e1", "system-event", new JsonObject { ["text"] = "Node: box · reason periodic", ["instanceId"] = "beacon-1" });
        Frame("h1", "health");
        await _manager.ExpectMsgAsync<GetPresence>();
        var asker = _manager.LastSender;
        // The beacon is neither answered nor upserted while the read it follows waits on the manager.
        await _manager.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        Assert.Equal(["c1"], _connection.ResponseIds);

        asker.Tell(new GetPresenceResponse(Snapshot));

        var upsert = await _manager.ExpectMsgAsync<PresenceCommands.Upsert>();
        Assert.Equal(PresenceKey.From("beacon-1"), upsert.Key);
        await AwaitAssertAsync(() => Assert.Equal(["c1", "p1", "e1", "h1"], _connection.ResponseIds));
        Assert.Equal(Snapshot.Entries.Length, _connection.Sent.Single(frame => (string?)frame["id"] == "p1")["payload"]!.AsArray().Count);
    }

    [Fact]
    public async Task Should_answer_the_instances_read_from_the_managers_origins_with_later_frames_waiting_their_turn()
    {
        await ConnectAsync();

        Frame("i1", "presence-gateway.instances");
        Frame("h1", "health");
        await _manager.ExpectMsgAsync<GetPresenceOrigins>();
        await AwaitAssertAsync(() => Assert.Equal(["c1"], _connection.ResponseIds));

        _manager.Reply(new GetPresenceOriginsResponse(
            [new PresenceOrigin(null, "127.0.0.1:4053", 1_000, "gw-self", null), new PresenceOrigin(PresenceKey.From("conn-7"), "127.0.0.1:4054", 900, null, null)],
            [new PresenceNode("127.0.0.1:4053", "up", true), new PresenceNode("127.0.0.1:4054", "leaving", false)]));

        await AwaitAssertAsync(() => Assert.Equal(["c1", "i1", "h1"], _connection.ResponseIds));
        var payload = _connection.Sent.Single(frame => (string?)frame["id"] == "i1")["payload"]!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"rows":[{"node":"127.0.0.1:4053","ts":1000,"instanceId":"gw-self"},{"key":"conn-7","node":"127.0.0.1:4054","ts":900}],
             "nodes":[{"address":"127.0.0.1:4053","status":"up","reachable":true},{"address":"127.0.0.1:4054","status":"leaving","reachable":false}]}
            """), payload), payload.ToJsonString());
    }

    [Fact]
    public async Task Should_answer_unavailable_when_the_manager_cannot_tell_where_rows_come_from()
    {
        await ConnectAsync();

        Frame("i1", "presence-gateway.instances");
        await _manager.ExpectMsgAsync<GetPresenceOrigins>();
        _manager.Reply(new Status.Failure(new InvalidOperationException("manager gone")));

        await AwaitAssertAsync(() => Assert.Equal(["c1", "i1"], _connection.ResponseIds));
        Assert.Equal("UNAVAILABLE", (string?)_connection.Sent[^1]["error"]!["code"]);
        Assert.Null(_connection.Closed);
    }

    [Fact]
    public async Task Should_report_a_frame_handled_only_once_it_is_answered()
    {
        await ConnectAsync();
        var handledAfterConnect = _connection.Handled;

        Frame("p1", "system-presence");
        Frame("h1", "health");
        await _manager.ExpectMsgAsync<GetPresence>();
        await AwaitAssertAsync(() => Assert.Equal(handledAfterConnect + 1, _connection.Handled));

        _manager.Reply(new GetPresenceResponse(Snapshot));

        await AwaitAssertAsync(() => Assert.Equal(handledAfterConnect + 2, _connection.Handled));
    }

    [Fact]
    public async Task Should_answer_frames_sent_during_the_handshake_after_hello_ok()
    {
        Frame("c1", "connect", Connects.Backend());
        Frame("h1", "health");
        Frame("x1", "no-such-method");
        await _manager.ExpectMsgAsync<PresenceCommands.Upsert>();
        await _manager.ExpectMsgAsync<GetPresence>();
        Assert.Empty(_connection.ResponseIds);

        _manager.Reply(new GetPresenceResponse(Snapshot));

        await AwaitAssertAsync(() => Assert.Equal(["c1", "h1", "x1"], _connection.ResponseIds));
    }

    [Fact]
    public async Task Should_answer_a_wrong_token_with_its_error_then_close_1008()
    {
        Frame("c1", "connect", Connects.Backend(token: "wrong"));

        await AwaitAssertAsync(() => Assert.NotNull(_connection.Closed));
        Assert.Equal("AUTH_TOKEN_MISMATCH", (string?)_connection.Sent[^1]["error"]!["details"]!["code"]);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, _connection.Closed!.Value.Status);
        await _manager.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task Should_answer_nothing_after_it_closed()
    {
        Frame("c1", "connect", Connects.Backend(token: "wrong"));
        await AwaitAssertAsync(() => Assert.NotNull(_connection.Closed));
        var sent = _connection.Sent.Count;

        Frame("h1", "health");

        await AwaitAssertAsync(() => Assert.Equal(2, _connection.Handled));
        Assert.Equal(sent, _connection.Sent.Count);
    }

    [Fact]
    public async Task Should_close_1000_when_the_supervisor_says_the_handshake_timed_out()
    {
        await AwaitAssertAsync(() => Assert.Equal("connect.challenge", (string?)_connection.Sent[0]["event"]));

        _actor.Tell(ConnectionActor.HandshakeTimedOut.Instance);

        await AwaitAssertAsync(() => Assert.Equal(WebSocketCloseStatus.NormalClosure, _connection.Closed?.Status));
    }

    [Fact]
    public async Task Should_ignore_a_late_handshake_timeout_once_connected()
    {
        await ConnectAsync();

        _actor.Tell(ConnectionActor.HandshakeTimedOut.Instance);
        Frame("h1", "health");

        await AwaitAssertAsync(() => Assert.Equal(["c1", "h1"], _connection.ResponseIds));
        Assert.Null(_connection.Closed);
    }

    [Fact]
    public async Task Should_answer_unavailable_and_close_1013_when_the_manager_cannot_give_the_hello_list()
    {
        Frame("c1", "connect", Connects.Backend());
        await _manager.ExpectMsgAsync<PresenceCommands.Upsert>();
        await _manager.ExpectMsgAsync<GetPresence>();

        _manager.Reply(new Status.Failure(new InvalidOperationException("manager gone")));

        await AwaitAssertAsync(() => Assert.Equal(CloseCodes.TryAgainLater, _connection.Closed?.Status));
        Assert.Equal("UNAVAILABLE", (string?)_connection.Sent[^1]["error"]!["code"]);
    }

    [Fact]
    public async Task Should_send_shutdown_then_close_1012_when_the_gateway_stops_after_hello_ok_even_before_the_supervisor_heard_of_it()
    {
        await ConnectAsync();

        // The supervisor's probe has not been asked about ConnectionAuthenticated: the actor decides from its own phase.
        _actor.Tell(ConnectionActor.GatewayStopping.Instance);

        await AwaitAssertAsync(() => Assert.Equal(CloseCodes.ServiceRestart, _connection.Closed?.Status));
        Assert.Equal("shutdown", (string?)_connection.Sent[^1]["event"]);
        Assert.Equal("service restart", _connection.Closed!.Value.Reason);
        await _supervisor.FishForMessageAsync(message => message is ConnectionsSupervisorActor.StopNoticeQueued queued && queued.Id == _connection.Info.Id);
    }

    [Fact]
    public async Task Should_send_shutdown_then_close_1012_when_the_gateway_stops_while_a_read_waits_on_the_manager()
    {
        await ConnectAsync();
        Frame("p1", "system-presence");
        await _manager.ExpectMsgAsync<GetPresence>();

        _actor.Tell(ConnectionActor.GatewayStopping.Instance);

        await AwaitAssertAsync(() => Assert.Equal(CloseCodes.ServiceRestart, _connection.Closed?.Status));
        Assert.Equal("shutdown", (string?)_connection.Sent[^1]["event"]);
        Assert.Equal(["c1"], _connection.ResponseIds);
    }

    [Fact]
    public async Task Should_close_1012_without_a_shutdown_event_when_the_gateway_stops_before_hello_ok()
    {
        Frame("c1", "connect", Connects.Backend());
        await _manager.ExpectMsgAsync<PresenceCommands.Upsert>();
        await _manager.ExpectMsgAsync<GetPresence>();

        _actor.Tell(ConnectionActor.GatewayStopping.Instance);
        await AwaitAssertAsync(() => Assert.Equal(CloseCodes.ServiceRestart, _connection.Closed?.Status));
        _manager.Reply(new GetPresenceResponse(Snapshot));

        await _supervisor.ExpectMsgAsync<ConnectionsSupervisorActor.ConnectionTracked>();
        await _supervisor.ExpectMsgAsync<ConnectionsSupervisorActor.StopNoticeQueued>();
        await _supervisor.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        Assert.Equal(["connect.challenge"], _connection.Sent.Select(frame => (string?)frame["event"]));
    }

    [Fact]
    public async Task Should_stop_when_its_socket_is_gone()
    {
        Watch(_actor);

        _actor.Tell(ConnectionActor.SocketClosed.Instance);

        await ExpectTerminatedAsync(_actor);
    }

    private async Task ConnectAsync()
    {
        Frame("c1", "connect", Connects.Backend());
        await _manager.ExpectMsgAsync<PresenceCommands.Upsert>();
        await _manager.ExpectMsgAsync<GetPresence>();
        _manager.Reply(new GetPresenceResponse(Snapshot));
        await AwaitAssertAsync(() => Assert.Equal(["c1"], _connection.ResponseIds));
    }

    private void Frame(string id, string method, JsonObject? parameters = null)
    {
        var frame = new JsonObject { ["type"] = "req", ["id"] = id, ["method"] = method };
        if (parameters is not null)
            frame["params"] = parameters;
        _actor.Tell(FrameParser.Parse(Encoding.UTF8.GetBytes(frame.ToJsonString())));
    }
}
