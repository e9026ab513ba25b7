namespace RestoreCluster.Cli;

/// <summary>
/// Ctrl-C (SIGINT) while a command runs: the process is not ended; <see cref="Token"/> is cancelled instead, and the
/// command stops in order (drops what it made, detaches, ...). Disposing it gives Ctrl-C back.
/// </summary>
internal sealed class CtrlC : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly ConsoleCancelEventHandler _handler;

    public CtrlC()
    {
        _handler = (_, e) =>
        {
            e.Cancel = true;
            _cancel.Cancel();
        };
        Console.CancelKeyPress += _handler;
    }

    public CancellationToken Token => _cancel.Token;

    public bool Pressed => _cancel.IsCancellationRequested;

    public void Dispose()
    {
        Console.CancelKeyPress -= _handler;
        _cancel.Dispose();
    }
}
