using System.Text.Json.Nodes;
using Xunit;
using static Presence.Gateway.Tests.Conformance.Frames;

namespace Presence.Gateway.Tests.Conformance;

/// <summary>
/// Requests sent back to back over a real socket are answered in the order sent, reads included
/// (a read waits on the manager, and the requests behind it wait for it), and a read lists every
/// beacon sent before it.
/// </summary>
public sealed class RequestOrderSpecs
{
    [Fact]
    public async Task Should_answer_interleaved_requests_in_order_and_read_every_beacon_sent_before()
    {
        await using var gateway = await TestGateway.StartAsync();
        await using var client = await gateway.ConnectAndHandshakeAsync();
        var sent = new List<(string Id, string Method, int Round)>();

        // Sent without waiting, so that most arrive while the actor still waits on the manager for an earlier read.
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
        Assert.Equal(sent.Select(request => request.Id), answers.Select(answer => (string)answer["id"]!));
        foreach (var request in sent)
        {
            var answer = byId[request.Id];
            Assert.True(answer["ok"]!.GetValue<bool>(), answer.ToJsonString());
            if (request.Method == "system-presence")
                Assert.NotNull(RowByInstance(Assert.IsType<JsonArray>(answer["payload"]), $"order-{request.Round}"));
        }
    }
}
