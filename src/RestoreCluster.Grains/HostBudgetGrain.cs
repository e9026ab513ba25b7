using Microsoft.Extensions.Logging;
using RestoreCluster.Grains.Abstractions;
using RestoreCluster.Planning;

namespace RestoreCluster.Grains;

/// <summary>
/// The concurrency budget of one target server: grants permits up to the budget. A permit is a lease that
/// lapses unless renewed, so a worker that dies cannot keep budget, and a lapsed permit cannot be renewed.
/// Its meters: permits held (in flight, per host), refused requests, and how long an owner waited for a grant.
/// An owner that finds the budget spent waits inside its Acquire call until a permit is released or lapses;
/// the status counts such calls as waiting (reentrant: no method awaits in the middle of a change, so
/// counts stay race-free).
/// <para>
/// The budget is in grain storage (<see cref="HostBudgetState"/>): a budget grain taken up on another silo after
/// its silo died keeps the server's budget instead of leaving the server unlimited. Permits are not stored: they
/// lapse unless renewed, and a slot whose renewal is refused takes a new one.
/// </para>
/// </summary>
[Orleans.Concurrency.Reentrant]
public sealed partial class HostBudgetGrain(
    ILogger<HostBudgetGrain> logger,
    [PersistentState("budget", GrainStorage.Name)] IPersistentState<HostBudgetState> stored) : Grain, IHostBudgetGrain
{
    private TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<string, (string Owner, DateTimeOffset Expires)> _permits = new(StringComparer.Ordinal);
    // Since when an owner has been refused (for the wait time), and how many calls wait inside Acquire now.
    private readonly Dictionary<string, DateTimeOffset> _waitingSince = new(StringComparer.Ordinal);
    private int _waiting;
    private int _budget;
    private long _sequence;
    private Adaptive? _adaptive;

    // An adaptive budget: its spec, the controller (the decisions), where the probe connects, the probe while units
    // run, the window's timer, batches finished in the window, and windows in a row with nothing held or wanted.
    private sealed class Adaptive(AdaptiveBudgetSpec spec, IReadOnlyDictionary<string, string> target)
    {
        public AdaptiveBudgetSpec Spec { get; } = spec;
        public AdaptiveBudget Controller { get; } = new(spec.Max, spec.ProtectMs > 0 ? spec.ProtectMs : null);
        public CopyPacer? Pacer { get; } = spec.ProtectMs > 0 ? new CopyPacer(spec.ProtectMs) : null;
        public IReadOnlyDictionary<string, string> Target { get; } = target;
        public BudgetProbe? Probe { get; set; }
        public IGrainTimer? Timer { get; set; }
        public int Finished { get; set; }
        public int IdleWindows { get; set; }
    }

    /// <summary>How long an adaptive budget measures before each decision.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(2);

    // Windows with no permit held or wanted after which the probe's session is closed (it opens again with the next unit).
    private const int IdleWindowsBeforeProbeStops = 10;

    // The permits units may hold now: an adaptive budget's (0: paused), or the fixed budget (0: unlimited).
    private int Limit => _adaptive?.Controller.UnitPermits ?? _budget;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _budget = stored.State.Budget;
        return Task.CompletedTask;
    }

    public async Task<Permit?> Acquire(string owner, TimeSpan ttl, TimeSpan wait)
    {
        var deadline = DateTimeOffset.UtcNow + wait;
        var permit = TryAcquire(owner, ttl);
        if (permit is not null || DateTimeOffset.UtcNow >= deadline)
        {
            return permit;
        }

        // A call that waits here is a slot waiting for a permit: the status counts it for as long as it waits.
        _waiting++;
        try
        {
            while (true)
            {
                // Until a release, a budget change, or the next permit's expiry, whichever comes first.
                var now = DateTimeOffset.UtcNow;
                var until = _permits.Count > 0 ? _permits.Values.Min(p => p.Expires) : deadline;
                var left = (until < deadline ? until : deadline) - now;
                try
                {
                    await _released.Task.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
                }
                catch (TimeoutException)
                {
                }

                permit = TryAcquire(owner, ttl);
                if (permit is not null || DateTimeOffset.UtcNow >= deadline)
                {
                    return permit;
                }
            }
        }
        finally
        {
            _waiting--;
        }
    }

    private Permit? TryAcquire(string owner, TimeSpan ttl)
    {
        var now = DateTimeOffset.UtcNow;
        Expire(now);
        if ((_adaptive is not null || _budget > 0) && _permits.Count >= Limit)
        {
            // Counted once per owner and wait, however often its calls are refused until it gets a permit.
            if (_waitingSince.TryAdd(owner, now))
            {
                GrainInstruments.PermitWaits.Add(1, Host);
            }

            return null;
        }

        StartProbe();
        var waited = _waitingSince.Remove(owner, out var since) ? now - since : TimeSpan.Zero;
        GrainInstruments.PermitWaitTime.Record(waited.TotalSeconds, Host);
        string id = $"{this.GetPrimaryKeyString()}#{++_sequence}";
        var expires = now + ttl;
        _permits[id] = (owner, expires);
        GrainInstruments.InFlight.Add(1, Host);
        return new Permit(id, this.GetPrimaryKeyString(), expires, Protects: _adaptive?.Spec.ProtectMs > 0);
    }

    public Task<bool> Renew(string permitId, TimeSpan ttl)
    {
        var now = DateTimeOffset.UtcNow;
        Expire(now);
        if (!_permits.TryGetValue(permitId, out var p))
        {
            // Lapsed (or released): its session must stop; the budget may already be someone else's.
            Log.RenewalRefused(logger, permitId);
            return Task.FromResult(false);
        }

        _permits[permitId] = (p.Owner, now + ttl);
        return Task.FromResult(true);
    }

    public Task<bool> Keep(string permitId, TimeSpan ttl)
    {
        var now = DateTimeOffset.UtcNow;
        Expire(now);
        if (!_permits.TryGetValue(permitId, out var p))
        {
            return Task.FromResult(false);
        }

        if (_adaptive is not null)
        {
            // A batch ended: an adaptive budget's measure of throughput.
            _adaptive.Finished++;
        }

        if ((_adaptive is not null || _budget > 0) && _permits.Count > Limit)
        {
            // Over a lowered budget: this permit's batch has ended, so it goes back now (running ones keep theirs).
            Log.PermitOverBudget(logger, permitId, _permits.Count, Limit);
            _permits.Remove(permitId);
            GrainInstruments.InFlight.Add(-1, Host);
            Released();
            return Task.FromResult(false);
        }

        _permits[permitId] = (p.Owner, now + ttl);
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

    public async Task SetBudget(int budget)
    {
        if (budget < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(budget), budget, "a host budget is at least 1");
        }

        if (budget != _budget)
        {
            Log.BudgetSet(logger, this.GetPrimaryKeyString(), budget);
        }

        bool changed = budget != _budget || _adaptive is not null;
        await StopAdaptiveAsync();
        _budget = budget;
        Released();
        if (changed || !stored.RecordExists)
        {
            // One write at a time (calls interleave here), each storing the budget as it is when it starts.
            var write = WriteAfterAsync(_write);
            _write = write;
            await write;
        }
    }

    private Task _write = Task.CompletedTask;

    private async Task WriteAfterAsync(Task previous, int? budget = null)
    {
        try
        {
            await previous;
        }
        catch (Exception e) when (e is OrleansException or InvalidOperationException or TimeoutException)
        {
            // Its caller heard of it; this write stores the budget anyway.
        }

        stored.State.Budget = budget ?? _budget;
        await stored.WriteStateAsync();
    }

    public Task<HostStatus> Status()
    {
        var now = DateTimeOffset.UtcNow;
        return Task.FromResult(new HostStatus(
            this.GetPrimaryKeyString(), Limit, _permits.Count(p => p.Value.Expires > now), _waiting,
            _adaptive?.Spec.ToString(), _adaptive?.Controller.Reason is { Length: > 0 } reason ? reason : null,
            (int)Math.Round(100 * (_adaptive?.Pacer?.Pace ?? 1))));
    }

    public async Task SetAdaptive(AdaptiveBudgetSpec spec, IReadOnlyDictionary<string, string> target)
    {
        if (_adaptive?.Spec == spec)
        {
            // Another job on the same server with the same setting: one controller for all of them.
            return;
        }

        await StopAdaptiveAsync();
        var adaptive = new Adaptive(spec, target);
        _adaptive = adaptive;
        adaptive.Timer = this.RegisterGrainTimer(DecideAsync, new GrainTimerCreationOptions(Window, Window) { Interleave = true });
        Log.AdaptiveSet(logger, this.GetPrimaryKeyString(), spec.ToString(), adaptive.Controller.Budget, adaptive.Controller.UnitPermits);
        Released();
        // Stored as a fixed budget of its maximum: a budget grain taken up on another silo keeps the server limited.
        var write = WriteAfterAsync(_write, spec.Max);
        _write = write;
        await write;
    }

    // One window's end: the probe's latencies and the units finished go to the controller; a change is logged, traced
    // and shown by the status, with its reason.
    private Task DecideAsync(CancellationToken cancellationToken)
    {
        if (_adaptive is not { } a)
        {
            return Task.CompletedTask;
        }

        bool busy = _permits.Count > 0 || _waiting > 0;
        a.IdleWindows = busy ? 0 : a.IdleWindows + 1;
        if (busy)
        {
            StartProbe();
        }

        var latencies = a.Probe?.Drain() ?? [];
        if (a.IdleWindows >= IdleWindowsBeforeProbeStops && a.Probe is { } idle)
        {
            a.Probe = null;
            _ = idle.DisposeAsync().AsTask();
        }

        var window = new BudgetWindow(Latencies.P95(latencies), a.Finished / Window.TotalSeconds, _waiting);
        a.Finished = 0;
        if (!busy || a.Controller.Next(window) is not { } reason)
        {
            return Task.CompletedTask;
        }

        string host = this.GetPrimaryKeyString();
        Log.AdaptiveChanged(logger, host, a.Controller.Budget, a.Controller.UnitPermits, reason);
        using (var change = GrainInstruments.Source.StartActivity("budget change"))
        {
            change?.SetTag("restorecluster.host", host);
            change?.SetTag("restorecluster.budget", a.Controller.Budget);
            change?.SetTag("restorecluster.unit_permits", a.Controller.UnitPermits);
            change?.SetTag("restorecluster.reason", reason);
        }

        Released();
        return Task.CompletedTask;
    }

    // An adaptive budget's probe runs from its first permit (its answers pace the COPYs at once), until it idles.
    private void StartProbe()
    {
        if (_adaptive is { Controller.Probed: true, Probe: null } a)
        {
            a.Probe = new BudgetProbe(
                a.Target, a.Spec.ProbeSql ?? AdaptiveBudget.DefaultProbeSql, message => Log.ProbeFailed(logger, this.GetPrimaryKeyString(), message), a.Pacer);
        }
    }

    public Task<double> CopyPace() => Task.FromResult(_adaptive?.Pacer?.Pace ?? 1);

    private async Task StopAdaptiveAsync()
    {
        if (_adaptive is { } a)
        {
            _adaptive = null;
            a.Timer?.Dispose();
            if (a.Probe is { } probe)
            {
                await probe.DisposeAsync();
            }
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => await StopAdaptiveAsync();

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
                Log.PermitLapsed(logger, id, p.Owner, (now - p.Expires).TotalMilliseconds);
                _permits.Remove(id);
                GrainInstruments.InFlight.Add(-1, Host);
            }
        }
    }
}
