using System.Threading.Channels;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.TestKit;
using Akka.TestKit;
using Presence.Actors.Streams;
using Presence.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Presence.Actors.Tests.Streams;

/// <summary>
/// The coalescing stream on virtual time: the clock moves only when a spec advances it, so "at once" means with
/// the clock standing still, and "not before the interval" can be checked to the millisecond.
/// </summary>
public sealed class CoalesceSpecs(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(TestConfigs.TestScheduler, output: output)
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Millisecond = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(200);

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    private (ChannelWriter<int> Writer, TestSubscriber.Probe<int> Out) RunLatest()
    {
        var channel = Coalesce.LatestOnly<int>();
        var probe = Coalesce.Latest(channel.Reader, Interval).RunWith(this.SinkProbe<int>(), Sys.Materializer());
        probe.Request(1_000);
        return (channel.Writer, probe);
    }

    [Fact]
    public async Task Should_emit_the_first_value_at_once()
    {
        var (writer, probe) = RunLatest();

        writer.TryWrite(1);

        await probe.ExpectNextAsync(1);
    }

    [Fact]
    public async Task Should_turn_a_burst_into_one_value_per_interval_the_latest_written()
    {
        var (writer, probe) = RunLatest();
        writer.TryWrite(0);
        await probe.ExpectNextAsync(0);

        for (var i = 1; i <= 100; i++)
            writer.TryWrite(i);
        await probe.ExpectNoMsgAsync(Quiet);
        Clock.Advance(Interval);
        await probe.ExpectNextAsync(100);

        for (var i = 101; i <= 200; i++)
            writer.TryWrite(i);
        Clock.Advance(Interval - Millisecond);
        await probe.ExpectNoMsgAsync(Quiet);
        Clock.Advance(Millisecond);
        await probe.ExpectNextAsync(200);
    }

    [Fact]
    public async Task Should_deliver_the_last_value_of_a_burst_and_then_fall_quiet()
    {
        var (writer, probe) = RunLatest();
        writer.TryWrite(1);
        await probe.ExpectNextAsync(1);
        writer.TryWrite(2);
        writer.TryWrite(3);

        Clock.Advance(Interval);
        await probe.ExpectNextAsync(3);

        // Nothing written in that interval: nothing more comes, however long the clock runs.
        for (var i = 0; i < 5; i++)
            Clock.Advance(Interval);
        await probe.ExpectNoMsgAsync(Quiet);
    }

    [Fact]
    public async Task Should_emit_at_once_again_after_a_quiet_interval()
    {
        var (writer, probe) = RunLatest();
        writer.TryWrite(1);
        await probe.ExpectNextAsync(1);

        Clock.Advance(Interval);
        writer.TryWrite(2);

        await probe.ExpectNextAsync(2);
    }

    [Fact]
    public async Task Should_pass_every_element_on_one_per_interval_in_order_and_end_after_the_last_interval()
    {
        var (upstream, downstream) = this.SourceProbe<int>()
            .Via(Coalesce.OnePerInterval<int>(Interval))
            .ToMaterialized(this.SinkProbe<int>(), Keep.Both)
            .Run(Sys.Materializer());
        downstream.Request(10);

        // The flow keeps nothing but the order: what the channel drops in production, it passes on, one per interval.
        foreach (var element in new[] { 1, 2, 3 })
            await upstream.SendNextAsync(element);
        await upstream.SendCompleteAsync();
        await downstream.ExpectNextAsync(1);
        await downstream.ExpectNoMsgAsync(Quiet);

        Clock.Advance(Interval);
        await downstream.ExpectNextAsync(2);
        Clock.Advance(Interval - Millisecond);
        await downstream.ExpectNoMsgAsync(Quiet);
        Clock.Advance(Millisecond);
        await downstream.ExpectNextAsync(3);

        await downstream.ExpectNoMsgAsync(Quiet);
        Clock.Advance(Interval);
        await downstream.ExpectCompleteAsync();
    }

    [Fact]
    public async Task Should_tell_the_actor_what_prepare_makes_of_each_value_and_nothing_for_null()
    {
        var told = CreateTestProbe();
        var actor = Sys.ActorOf(Props.Create(() => new CoalescingActor(told.Ref)));

        actor.Tell("a");
        await told.ExpectMsgAsync(new Prepared("A"));
        Clock.Advance(Interval);
        actor.Tell(CoalescingActor.PrepareToNull);
        Clock.Advance(Interval);
        actor.Tell("b");

        await told.ExpectMsgAsync(new Prepared("B"));
    }

    [Fact]
    public async Task Should_tell_the_actor_when_its_stream_fails()
    {
        var told = CreateTestProbe();
        var actor = Sys.ActorOf(Props.Create(() => new CoalescingActor(told.Ref)));

        actor.Tell(CoalescingActor.PrepareToFail);

        var stopped = await told.ExpectMsgAsync<Coalesce.Stopped>();
        Assert.IsType<InvalidOperationException>(stopped.Cause);
        Assert.False(stopped.WithPreviousInstance);
    }

    [Fact]
    public async Task Should_run_a_new_stream_for_a_restarted_actor_and_mark_the_old_ones_end_as_the_previous_instances()
    {
        var told = CreateTestProbe();
        var actor = Sys.ActorOf(Props.Create(() => new CoalescingActor(told.Ref)));
        actor.Tell("before");
        await told.ExpectMsgAsync(new Prepared("BEFORE"));

        actor.Tell(CoalescingActor.Restart);
        Assert.True((await told.ExpectMsgAsync<Coalesce.Stopped>()).WithPreviousInstance);
        // The clock has not moved: only a new stream, with no interval running, delivers this now.
        actor.Tell("after");

        await told.ExpectMsgAsync(new Prepared("AFTER"));
    }

    private sealed record Prepared(string Value);

    /// <summary>Runs the stream to itself as the manager and the replicator do, and tells a probe what it gets back.</summary>
    private sealed class CoalescingActor(IActorRef told) : UntypedActor
    {
        public const string PrepareToNull = "null";
        public const string PrepareToFail = "fail";
        public const string Restart = "restart";

        private ChannelWriter<string> _values = null!;

        protected override void PreStart() => _values = Coalesce.RunToSelf<string, Prepared>(Context, Interval, Prepare);

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case Restart:
                    throw new InvalidOperationException("restart on purpose");
                case string value:
                    _values.TryWrite(value);
                    break;
                case Prepared or Coalesce.Stopped:
                    told.Tell(message);
                    break;
                default:
                    Unhandled(message);
                    break;
            }
        }

        private static Prepared? Prepare(string value) => value switch
        {
            PrepareToNull => null,
            PrepareToFail => throw new InvalidOperationException("prepare failed on purpose"),
            _ => new Prepared(value.ToUpperInvariant()),
        };
    }
}
