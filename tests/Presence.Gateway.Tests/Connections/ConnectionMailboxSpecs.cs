using Akka.Actor;
using Akka.Dispatch.MessageQueues;
using Akka.TestKit.Xunit2;
using Presence.Gateway.Connections;
using Xunit;

namespace Presence.Gateway.Tests.Connections;

/// <summary>The ConnectionActors' mailbox, in a real actor system: every message delivered once, each sender's in order, whatever the threads.</summary>
public sealed class ConnectionMailboxSpecs() : TestKit(GatewaySettings.DefaultConfig)
{
    [Fact]
    public async Task Should_deliver_every_message_once_and_each_senders_in_order_while_four_threads_send_at_once()
    {
        const int senders = 4;
        const int perSender = 20_000;
        var counter = Sys.ActorOf(Props.Create(() => new OrderCheckingActor(senders, perSender, TestActor)).WithMailbox(ConnectionMailbox.Path));

        await Task.WhenAll(Enumerable.Range(0, senders).Select(sender => Task.Run(() =>
        {
            for (var n = 0; n < perSender; n++)
                counter.Tell((sender, n));
        })));

        var result = await ExpectMsgAsync<string>(TimeSpan.FromSeconds(30));
        Assert.Equal($"{senders * perSender} in order", result);
    }

    [Fact]
    public async Task Should_be_the_mailbox_of_every_connection_actor()
    {
        var actor = (ActorRefWithCell)Sys.ActorOf(Props.Create<OrderCheckingActor>(1, 1, TestActor).WithMailbox(ConnectionMailbox.Path));
        // A top-level actor starts through its guardian: once it answers, its cell is the started one.
        await actor.Ask<ActorIdentity>(new Identify(null), TimeSpan.FromSeconds(5));

        Assert.IsType<ConnectionMailbox.Messages>(((ActorCell)actor.Underlying).Mailbox!.MessageQueue);
        Assert.Equal(ConnectionMailbox.Path, ConnectionActorProps().Mailbox);
    }

    [Fact]
    public void Should_report_its_messages_and_hand_the_rest_to_dead_letters_on_clean_up()
    {
        var queue = new ConnectionMailbox.Messages();
        var deadLetters = new UnboundedMessageQueue();

        Assert.False(queue.HasMessages);
        for (var n = 0; n < 100; n++)
            queue.Enqueue(TestActor, new Envelope(n, TestActor));
        Assert.True(queue.TryDequeue(out var first));
        Assert.Equal(0, first.Message);
        Assert.Equal(99, queue.Count);

        queue.CleanUp(TestActor, deadLetters);

        Assert.False(queue.HasMessages);
        Assert.Equal(99, deadLetters.Count);
        Assert.True(deadLetters.TryDequeue(out var next));
        Assert.Equal(1, next.Message);
    }

    private static Props ConnectionActorProps()
    {
        var settings = GatewaySettings.Create(GatewaySettings.DefaultConfig);
        var options = new ConnectionOptions(settings, new Admission(settings.Limits), new HashSet<string>(), TimeSpan.FromSeconds(3), "test", 0);
        return ConnectionActor.Props(new RecordingConnection(), ActorRefs.Nobody, options);
    }

    private sealed class OrderCheckingActor : ReceiveActor
    {
        public OrderCheckingActor(int senders, int perSender, IActorRef report)
        {
            var next = new int[senders];
            var received = 0;
            var inOrder = true;
            Receive<(int Sender, int N)>(message =>
            {
                inOrder &= message.N == next[message.Sender];
                next[message.Sender] = message.N + 1;
                if (++received == senders * perSender)
                    report.Tell($"{received} {(inOrder ? "in order" : "out of order")}");
            });
        }
    }
}
