using System.Threading.Channels;
using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.Stage;

namespace Presence.Actors.Streams;

/// <summary>
/// "An isolated change goes out at once; a burst goes out as one delivery per interval, carrying the latest":
/// the stream the PresenceManager runs for its announcements and the PresenceReplicator for its writes
/// to DData, one materialised stream per actor.
/// </summary>
/// <remarks>
/// Not <c>Throttle</c>: its token bucket reads <see cref="DateTime.Now"/>, not the scheduler's clock, so under
/// the specs' virtual time an isolated change after a quiet (virtual) interval would still wait for a timer.
/// The silence here is a scheduler timer only, and no clock is read at all.
/// Not <c>Source.Queue</c> + <c>Conflate</c> either: the actor writes every change, thousands a second in a
/// burst, and a queue offer costs a task and a message to the stream each, and a conflate keeps pulling, so the
/// stream would wake for each change. A one-slot channel that drops the older value costs one slot write per
/// change, and the stream reads it only when it is ready to deliver.
/// </remarks>
internal static class Coalesce
{
    /// <summary>
    /// The one-slot channel <see cref="Latest{T}"/> reads: a write replaces a value not yet read, so it never blocks
    /// nor fails (<see cref="ChannelWriter{T}.TryWrite"/> always succeeds); it must be written from one thread at a
    /// time (an actor's).
    /// </summary>
    /// <remarks>
    /// Synchronous continuations: a write that wakes the waiting stream completes the stream's wait on the writer's
    /// thread, which then hands the stream's own continuation to the task scheduler the stream waited on, instead of
    /// first hopping through the thread pool. In production that scheduler is the thread pool either way; under the
    /// simulation kit it is the kit's own, so that a write is announced before the kit's step returns, in one order.
    /// </remarks>
    public static Channel<T> LatestOnly<T>() =>
        Channel.CreateBounded<T>(new BoundedChannelOptions(1)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleWriter = true,
            SingleReader = true,
            AllowSynchronousContinuations = true,
        });

    /// <summary>
    /// Reads <paramref name="reader"/> (a <see cref="LatestOnly{T}"/> channel) so that the first value after a quiet
    /// interval is emitted at once, then nothing for <paramref name="interval"/>, then the latest value written
    /// meanwhile, if any.
    /// </summary>
    public static Source<T, NotUsed> Latest<T>(ChannelReader<T> reader, TimeSpan interval) =>
        ChannelSource.FromReader(reader).Via(OnePerInterval<T>(interval));

    /// <summary>Passes an element on at once, then asks for no other for <paramref name="interval"/>: what arrives upstream meanwhile waits there.</summary>
    public static Flow<T, T, NotUsed> OnePerInterval<T>(TimeSpan interval) => Flow.FromGraph(new OnePerIntervalStage<T>(interval));

    /// <summary>
    /// Runs <see cref="Latest{T}"/> over a new <see cref="LatestOnly{T}"/> channel on the actor's own materializer,
    /// prepares each value delivered (on the stream, not on the actor's thread) and tells the result, unless null,
    /// to the actor itself; the actor must also handle <see cref="Stopped"/>. Returns the writer the actor writes its changes to.
    /// </summary>
    /// <remarks>
    /// The stream is a child of the actor through <c>Context.Materializer()</c>: it stops when the actor stops,
    /// and when the actor restarts (the default <c>PreRestart</c> stops the children), after which the new
    /// instance runs its own stream from its own state, starting with nothing held back: its first value goes
    /// out at once. What the old stream had already told the actor may still reach the new instance, followed by
    /// the old stream's <see cref="Stopped"/> (marked <see cref="Stopped.WithPreviousInstance"/>, to be ignored).
    /// Such a value stands on its own, so passing it on is harmless: a whole list (which a restarted manager,
    /// having lost its subscribers with its state, tells only to whoever subscribed since), or a write to this
    /// node's key made against what the old stream had written there, which the key still holds.
    /// </remarks>
    public static ChannelWriter<T> RunToSelf<T, TPrepared>(IActorContext context, TimeSpan interval, Func<T, TPrepared?> prepare)
        where TPrepared : class
    {
        var channel = LatestOnly<T>();
        Latest(channel.Reader, interval)
            .Select(prepare)
            .Where(prepared => prepared is not null)
            .To(Sink.ActorRef<TPrepared?>(context.Self, new Stopped(null), cause => new Stopped(cause)))
            .Run(context.Materializer());
        return channel.Writer;
    }

    /// <summary>Told to the actor when its stream ended, which only an error in <c>prepare</c> or the actor's own stop or restart can cause.</summary>
    public sealed record Stopped(Exception? Cause) : IDeadLetterSuppression
    {
        /// <summary>The stream was stopped with the actor's previous instance (a restart): not a fault of the running one.</summary>
        public bool WithPreviousInstance => Cause is AbruptStageTerminationException;
    }

    /// <summary>
    /// One stage and one timer for the stream's life: a <c>ConcatMany</c> of "the element, then a silence" would
    /// materialise a sub-stream (two sources, a concat and a timed take) for every element delivered.
    /// </summary>
    private sealed class OnePerIntervalStage<T>(TimeSpan interval) : GraphStage<FlowShape<T, T>>
    {
        private readonly Inlet<T> _in = new("OnePerInterval.in");
        private readonly Outlet<T> _out = new("OnePerInterval.out");
        private readonly TimeSpan _interval = interval;

        public override FlowShape<T, T> Shape => new(_in, _out);

        protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

        private sealed class Logic : TimerGraphStageLogic
        {
            private readonly OnePerIntervalStage<T> _stage;
            private bool _silent;

            public Logic(OnePerIntervalStage<T> stage) : base(stage.Shape)
            {
                _stage = stage;
                SetHandler(stage._in, onPush: () =>
                {
                    Push(stage._out, Grab(stage._in));
                    _silent = true;
                    ScheduleOnce(this, stage._interval);
                }, onUpstreamFinish: () =>
                {
                    // Like the last element's silence, completion waits for the interval to end.
                    if (!_silent)
                        CompleteStage();
                });
                SetHandler(stage._out, onPull: PullUnlessSilent);
            }

            protected override void OnTimer(object timerKey)
            {
                _silent = false;
                if (IsClosed(_stage._in))
                    CompleteStage();
                else if (IsAvailable(_stage._out))
                    PullUnlessSilent();
            }

            private void PullUnlessSilent()
            {
                if (!_silent && !HasBeenPulled(_stage._in))
                    Pull(_stage._in);
            }
        }
    }
}
