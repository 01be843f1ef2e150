namespace Presence.Actors.TestKit;

/// <summary>
/// The task scheduler a simulation runs on. The manager's announcement stream waits for its channel with a task
/// continuation, which goes to the scheduler current when it started waiting: under this one, that continuation is
/// queued here instead of on the thread pool, and <see cref="RunPending"/> runs it on the simulation's own thread.
/// So a step (a command told, the clock advanced) is fully announced before the step returns, in one order.
/// </summary>
internal sealed class SimulationTaskScheduler : TaskScheduler
{
    private readonly Queue<Task> _pending = new();

    public override int MaximumConcurrencyLevel => 1;

    /// <summary>Runs <paramref name="body"/> on the calling thread with this scheduler current; the body must not await.</summary>
    public T Run<T>(Func<T> body)
    {
        var task = new Task<T>(body);
        task.RunSynchronously(this);
        return task.GetAwaiter().GetResult();
    }

    /// <summary>Runs every queued continuation, and those they queue in turn, in order; returns how many ran.</summary>
    public int RunPending()
    {
        var ran = 0;
        while (TryDequeue(out var task))
        {
            TryExecuteTask(task);
            ran++;
        }
        return ran;
    }

    protected override void QueueTask(Task task)
    {
        // Queued from the simulation's thread as a rule; the lock covers a continuation some library queues from another.
        lock (_pending)
            _pending.Enqueue(task);
    }

    // The simulation's body runs inline (RunSynchronously); a queued task waits for its turn in RunPending.
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => !taskWasPreviouslyQueued && TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks()
    {
        lock (_pending)
            return _pending.ToArray();
    }

    private bool TryDequeue(out Task task)
    {
        lock (_pending)
            return _pending.TryDequeue(out task!);
    }
}
