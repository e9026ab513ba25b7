namespace RestoreCluster.LocalPostgres;

/// <summary>The last lines a server wrote, and a way to wait for a line (or for the process to end).</summary>
internal sealed class ServerLog
{
    private const int MaxLines = 200;
    private readonly Queue<string> lines = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<bool> Done)> waiters = [];
    private bool exited;

    public void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (lines)
        {
            lines.Enqueue(line);
            if (lines.Count > MaxLines)
            {
                lines.Dequeue();
            }

            foreach (var waiter in waiters.Where(w => w.Match(line)).ToList())
            {
                waiter.Done.TrySetResult(true);
                waiters.Remove(waiter);
            }
        }
    }

    public void MarkExited()
    {
        lock (lines)
        {
            exited = true;
            foreach (var waiter in waiters)
            {
                waiter.Done.TrySetResult(false);
            }

            waiters.Clear();
        }
    }

    /// <summary>True when a matching line arrives; false when the process exits first.</summary>
    public async Task<bool> WaitAsync(Func<string, bool> match, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (lines)
        {
            if (lines.Any(match))
            {
                return true;
            }

            if (exited)
            {
                return false;
            }

            waiters.Add((match, done));
        }

        return await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public string Tail(int count = 40)
    {
        lock (lines)
        {
            return string.Join('\n', lines.Skip(Math.Max(0, lines.Count - count)));
        }
    }
}
