using RestoreCluster.Planning;

namespace RestoreCluster.Grains;

/// <summary>
/// A silo's worker slots (<c>--slots</c>) shared by every job it works on: a job's slot runs units only while it
/// holds one of them, so the silo never runs more units than its slots, however many jobs it joined. A slot asks for
/// one only once it holds its target server's permit, so a server at its budget never ties a silo slot up while
/// other servers' work waits. When one is given back, <see cref="FleetPolicy"/> picks who gets it. Used from the
/// worker grain's turns only (one thread at a time); 0 slots: no limit (the embedded silo).
/// </summary>
internal sealed class SiloSlots(int slots)
{
    private readonly List<Waiter> _waiting = [];
    private int _held;

    public int Held => _held;

    public int Waiting => _waiting.Count;

    /// <summary>One slot, at once or within <paramref name="wait"/>; false when none came in that time.</summary>
    public async Task<bool> TakeAsync(string job, int priority, double remainingWork, TimeSpan wait)
    {
        if (slots <= 0 || (_held < slots && _waiting.Count == 0))
        {
            _held++;
            return true;
        }

        var waiter = new Waiter(job, priority, remainingWork, DateTimeOffset.UtcNow);
        _waiting.Add(waiter);
        await Task.WhenAny(waiter.Granted.Task, Task.Delay(wait));
        if (waiter.Granted.TrySetResult(false))
        {
            // Not granted in time: no longer waiting.
            _waiting.Remove(waiter);
        }

        return await waiter.Granted.Task;
    }

    /// <summary>Gives a slot back; the waiting slot the policy picks gets it.</summary>
    public void Give()
    {
        _held--;
        var now = DateTimeOffset.UtcNow;
        while ((slots <= 0 || _held < slots) && _waiting.Count > 0)
        {
            // Every waiter here holds its server's permit: each may run now.
            int next = FleetPolicy.Choose(_waiting.Select(w => new FleetCandidate(w.Job, w.Priority, "", true, w.RemainingWork, now - w.Since)).ToList());
            var waiter = _waiting[next];
            _waiting.RemoveAt(next);
            if (waiter.Granted.TrySetResult(true))
            {
                _held++;
            }
        }
    }

    private sealed record Waiter(string Job, int Priority, double RemainingWork, DateTimeOffset Since)
    {
        public TaskCompletionSource<bool> Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
