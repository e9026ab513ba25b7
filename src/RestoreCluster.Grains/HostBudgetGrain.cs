using RestoreCluster.Grains.Abstractions;

namespace RestoreCluster.Grains;

/// <summary>
/// The concurrency budget of one target server: grants permits up to the budget. A permit is a lease that
/// lapses unless renewed, so a worker that dies cannot keep budget. Non-reentrant, so counts are race-free.
/// Its meters: permits held (in flight, per host), refused requests, and how long an owner waited for a grant.
/// </summary>
public sealed class HostBudgetGrain : Grain, IHostBudgetGrain
{
    private readonly Dictionary<string, (string Owner, DateTimeOffset Expires)> _permits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _waiting = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _waitingSince = new(StringComparer.Ordinal);
    private int _budget;
    private long _sequence;

    public Task<Permit?> TryAcquire(string owner, TimeSpan ttl)
    {
        var now = DateTimeOffset.UtcNow;
        Expire(now);
        if (_budget > 0 && _permits.Count >= _budget)
        {
            _waiting[owner] = now;
            _waitingSince.TryAdd(owner, now);
            GrainInstruments.PermitWaits.Add(1, Host);
            return Task.FromResult<Permit?>(null);
        }

        _waiting.Remove(owner);
        var waited = _waitingSince.Remove(owner, out var since) ? now - since : TimeSpan.Zero;
        GrainInstruments.PermitWaitTime.Record(waited.TotalSeconds, Host);
        string id = $"{this.GetPrimaryKeyString()}#{++_sequence}";
        var expires = now + ttl;
        _permits[id] = (owner, expires);
        GrainInstruments.InFlight.Add(1, Host);
        return Task.FromResult<Permit?>(new Permit(id, this.GetPrimaryKeyString(), expires));
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
        return Task.CompletedTask;
    }

    public Task<HostStatus> Status()
    {
        var now = DateTimeOffset.UtcNow;
        int waiting = _waiting.Count(w => now - w.Value < TimeSpan.FromSeconds(2));
        return Task.FromResult(new HostStatus(this.GetPrimaryKeyString(), _budget, _permits.Count(p => p.Value.Expires > now), waiting));
    }

    private KeyValuePair<string, object?> Host => GrainInstruments.Host(this.GetPrimaryKeyString());

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
