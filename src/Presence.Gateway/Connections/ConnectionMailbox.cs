using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace Presence.Gateway.Connections;

/// <summary>
/// The ConnectionActors' mailbox (<c>gateway.connection-mailbox</c>): unbounded and in order like Akka's
/// default, but an idle actor's queue is a few dozen bytes instead of the ~1.1 KB a ConcurrentQueue
/// allocates up front for its first 32-slot segment, on every one of thousands of idle sockets. A
/// connection's messages come from its read loop and the PresenceManager's replies, rarely at once,
/// so an uncontended lock costs less than the memory it saves.
/// </summary>
public sealed class ConnectionMailbox(Settings settings, Config config) : MailboxType(settings, config), IProducesMessageQueue<ConnectionMailbox.Messages>
{
    /// <summary>The config path the ConnectionActors' props name.</summary>
    public const string Path = "gateway.connection-mailbox";

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new Messages();

    /// <summary>A <see cref="Queue{T}"/> under a lock, trimmed once drained after a burst so that it does not keep the burst's size.</summary>
    public sealed class Messages : IMessageQueue, IUnboundedMessageQueueSemantics
    {
        /// <summary>A drained queue larger than this gives its array back.</summary>
        private const int KeptCapacity = 8;

        private readonly Queue<Envelope> _envelopes = new(0);
        private volatile int _count;

        public bool HasMessages => _count > 0;

        public int Count => _count;

        public void Enqueue(IActorRef receiver, Envelope envelope)
        {
            lock (_envelopes)
            {
                _envelopes.Enqueue(envelope);
                _count = _envelopes.Count;
            }
        }

        public bool TryDequeue(out Envelope envelope)
        {
            lock (_envelopes)
            {
                if (!_envelopes.TryDequeue(out envelope))
                    return false;
                _count = _envelopes.Count;
                if (_count == 0 && _envelopes.EnsureCapacity(0) > KeptCapacity)
                    _envelopes.TrimExcess();
                return true;
            }
        }

        public void CleanUp(IActorRef owner, IMessageQueue deadletters)
        {
            while (TryDequeue(out var envelope))
                deadletters.Enqueue(owner, envelope);
        }
    }
}
