using RestoreCluster.Grains.Abstractions;

namespace RestoreCluster.Grains;

/// <summary>
/// The concurrency budget of one target server: grants permits up to the budget. A permit is a lease that
/// lapses unless renewed, so a worker that dies cannot keep budget. Non-reentrant, so counts are race-free.
/// Its meters: permits held (in flight, per host), refused requests, and how long an owner waited for a grant.
/// An owner that finds the budget spent waits inside its Acquire call until a permit is released or lapses
/// (reentrant: no method awaits in the middle of a change, so counts stay race-free).
/// </summary>
[Orleans.Concurrency.Reentrant]
public sealed class HostBudgetGrain : Grain, IHostBudgetGrain
{
    private TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<string, (string Owner, DateTimeOffset Expires)> _permits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _waiting = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _waitingSince = new(StringComparer.Ordinal);
    private int _budget;
    private long _sequence;

    public async Task<Permit?> Acquire(string owner, TimeSpan ttl, TimeSpan wait)
    {
        var deadline = DateTimeOffset.UtcNow + wait;
        while (true)
        {
            var permit = TryAcquire(owner, ttl);
            var now = DateTimeOffset.UtcNow;
            if (permit is not null || now >= deadline)
            {
                return permit;
            }

            // Until a release, a budget change, or the next permit's expiry, whichever comes first.
            var until = _permits.Count > 0 ? _permits.Values.Min(p => p.Expires) : deadline;
            var left = (until < deadline ? until : deadline) - now;
            try
            {
                await _released.Task.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
            }
            catch (TimeoutException)
            {
            }
        }
    }

    private Permit? TryAcquire(string owner, TimeSpan ttl)
    {
        var now = DateTimeOffset.UtcNow;
        Expire(now);
        if (_budget > 0 && _permits.Count >= _budget)
        {
            _waitingSince.TryAdd(owner, now);
            if (_waiting.TryAdd(owner, now))
            {
                GrainInstruments.PermitWaits.Add(1, Host);
            }

            _waiting[owner] = now;
            return null;
        }

        _waiting.Remove(owner);
        var waited = _waitingSince.Remove(owner, out var since) ? now - since : TimeSpan.Zero;
        GrainInstruments.PermitWaitTime.Record(waited.TotalSeconds, Host);
        string id = $"{this.GetPrimaryKeyString()}#{++_sequence}";
        var expires = now + ttl;
        _permits[id] = (owner, expires);
        GrainInstruments.InFlight.Add(1, Host);
        return new Permit(id, this.GetPrimaryKeyString(), expires);
    }

    public Task<bool> Renew(string permitId, TimeSpan ttl)
    {
        if (!_permits.TryGetValue(permitId, out var p))
        {
            return Task.FromResult(false);
        }

        _permits[permitId] = (p.Owner, DateTimeOffset.UtcNow + ttl);
        return Task.FromResult(true);
    }

    public Task Release(string permitId)
    {
        if (_permits.Remove(permitId))
        {
            GrainInstruments.InFlight.Add(-1, Host);
            Released();
        }

        return Task.CompletedTask;
    }

    public Task SetBudget(int budget)
    {
        if (budget < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(budget), budget, "a host budget is at least 1");
        }

        _budget = budget;
        Released();
        return Task.CompletedTask;
    }

    public Task<HostStatus> Status()
    {
        var now = DateTimeOffset.UtcNow;
        int waiting = _waiting.Count(w => now - w.Value < TimeSpan.FromSeconds(2));
        return Task.FromResult(new HostStatus(this.GetPrimaryKeyString(), _budget, _permits.Count(p => p.Value.Expires > now), waiting));
    }

    private KeyValuePair<string, object?> Host => GrainInstruments.Host(this.GetPrimaryKeyString());

    private void Released()
    {
        var released = _released;
        _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        released.TrySetResult();
    }

    private void Expire(DateTimeOffset now)
    {
        foreach (var (id, p) in _permits.ToList())
        {
            if (p.Expires <= now)
            {
                _permits.Remove(id);
                GrainInstruments.InFlight.Add(-1, Host);
            }
        }
    }
}
