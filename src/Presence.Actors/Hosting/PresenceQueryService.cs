using Akka.Actor;
using Akka.Hosting;
using Presence.Actors.Domain;
using Presence.Actors.PresenceManager;

namespace Presence.Actors.Hosting;

/// <summary>Reads presence from outside the actor system.</summary>
public interface IPresenceQueries
{
    /// <exception cref="PresenceUnavailableException">The manager did not answer in time.</exception>
    Task<PresenceSnapshot> GetPresenceAsync(CancellationToken cancellationToken = default);
}

/// <summary>Asks the <c>presence-manager</c>, bounded by a timeout and the caller's cancellation.</summary>
public sealed class PresenceQueryService(IRequiredActor<PresenceManagerActor> manager, TimeSpan askTimeout) : IPresenceQueries
{
    public async Task<PresenceSnapshot> GetPresenceAsync(CancellationToken cancellationToken = default)
    {
        var actor = await manager.GetAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var response = await actor.Ask<PresenceQueries.GetPresenceResponse>(PresenceQueries.GetPresence.Instance, askTimeout, cancellationToken).ConfigureAwait(false);
            return response.Snapshot;
        }
        catch (AskTimeoutException ex)
        {
            throw new PresenceUnavailableException($"presence-manager did not answer within {askTimeout.TotalMilliseconds:0} ms", ex);
        }
    }
}

/// <summary>The presence manager could not answer in time (overloaded, stopping or gone).</summary>
public sealed class PresenceUnavailableException(string message, Exception inner) : Exception(message, inner);
