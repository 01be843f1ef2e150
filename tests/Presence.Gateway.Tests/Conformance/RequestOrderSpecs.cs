using System.Text.Json.Nodes;
using Xunit;
using static Presence.Gateway.Tests.Conformance.Frames;

namespace Presence.Gateway.Tests.Conformance;

/// <summary>
/// Beacons and presence reads may be answered on the socket's read loop rather than by the connection's
/// actor. Requests sent back to back must still get the order the actor alone gives: every answer but a
/// read's in the order sent (reads that wait on the manager were never ordered: each completes its own
/// Ask). And a read must list every beacon sent before it.
/// </summary>
public sealed class RequestOrderSpecs
{
    [Fact]
    public async Task Should_answer_interleaved_requests_in_order_and_read_every_beacon_sent_before()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAndHandshakeAsync();
        var sent = new List<(string Id, string Method, int Round)>();

        // Sent without waiting, so that some arrive while the actor still has frames to answer and some while it has none;
        // 12 reads stay within the 16 a connection may have waiting on the manager.
        for (var round = 0; round < 12; round++)
        {
            if (round % 3 == 0)
                sent.Add((await client.SendRequestAsync("health"), "health", round));
            sent.Add((await client.SendRequestAsync("system-event", new JsonObject { ["text"] = $"round {round}", ["instanceId"] = $"order-{round}" }), "system-event", round));
            sent.Add((await client.SendRequestAsync("system-presence", new JsonObject()), "system-presence", round));
        }

        var answers = new List<JsonObject>();
        while (answers.Count < sent.Count)
        {
            var frame = await client.ReceiveAsync();
            if ((string?)frame["type"] == "res")
                answers.Add(frame);
        }

        var byId = answers.ToDictionary(answer => (string)answer["id"]!);
        var notReads = sent.Where(request => request.Method != "system-presence").Select(request => request.Id).ToHashSet();
        Assert.Equal(
            sent.Select(request => request.Id).Where(notReads.Contains),
            answers.Select(answer => (string)answer["id"]!).Where(notReads.Contains));
        foreach (var request in sent)
        {
            var answer = byId[request.Id];
            Assert.True(answer["ok"]!.GetValue<bool>(), answer.ToJsonString());
            if (request.Method == "system-presence")
                Assert.NotNull(RowByInstance(Assert.IsType<JsonArray>(answer["payload"]), $"order-{request.Round}"));
        }
    }
}
