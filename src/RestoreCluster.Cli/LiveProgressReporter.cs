using System.Globalization;
using System.Threading.Channels;
using RestoreCluster.Grains.Abstractions;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace RestoreCluster.Cli;

/// <summary>
/// --progress auto on a terminal: a Spectre.Console live display on stderr with the phase, units done/total,
/// table data bytes done/total (counted as they are read), throughput and ETA over the last seconds, each
/// running unit with its own progress, and the target host (as the user named it) with its permits in flight.
/// </summary>
/// <remarks>
/// Spectre's live display is not thread-safe, so only its own loop touches the console: updates and error
/// lines reach it through a channel, and lines printed from inside the loop (errors, -v lines, log records) land above the display.
/// </remarks>
internal sealed class LiveProgressReporter : ProgressReporter
{
    private const int BarWidth = 30;
    private const int RunningShown = 8;

    private readonly IAnsiConsole _console;
    private readonly Channel<Action<LiveDisplayContext>> _updates = Channel.CreateUnbounded<Action<LiveDisplayContext>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _display;

    public LiveProgressReporter(CliOutput io, string hostName)
        : base(io, hostName)
    {
        _console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(io.Error) });
        _display = _console.Live(new Text("restorecluster: starting the restore"))
            .AutoClear(false)
            .Overflow(VerticalOverflow.Ellipsis)
            .StartAsync(DrainAsync);
    }

    protected override void Show(JobStatus job, HostStatus host, TimeSpan elapsed)
    {
        var view = Render(job, [host], elapsed);
        _updates.Writer.TryWrite(ctx => ctx.UpdateTarget(view));
    }

    public override void WriteLine(string line)
    {
        // After the display ended (its loop takes nothing more) a line goes straight to stderr.
        if (!_updates.Writer.TryWrite(_ => _console.WriteLine(line)))
        {
            Io.Error.WriteLine(line);
        }
    }

    public override async ValueTask FinishAsync(JobStatus job, TimeSpan elapsed)
    {
        var view = Render(job, [], elapsed);
        _updates.Writer.TryWrite(ctx => ctx.UpdateTarget(view));
        await DisposeAsync().ConfigureAwait(false);
        WriteSummary(job, elapsed);
    }

    public override async ValueTask DisposeAsync()
    {
        _updates.Writer.TryComplete();
        await _display.ConfigureAwait(false);
    }

    private async Task DrainAsync(LiveDisplayContext ctx)
    {
        await foreach (var update in _updates.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            update(ctx);
            ctx.Refresh();
        }
    }

    private IRenderable Render(JobStatus job, IReadOnlyList<HostStatus> hosts, TimeSpan elapsed)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow(new Markup("[bold]restore[/]"), new Markup(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"{job.JobId}  {job.State.ToString().ToLowerInvariant()}  {elapsed:hh\\:mm\\:ss}"))));
        grid.AddRow(new Text("phase"), new Text(ProgressText.Phase(job.Phase)));
        grid.AddRow(new Text("units"), new Markup(string.Create(CultureInfo.InvariantCulture,
            $"{Bar(job.UnitsDone, job.UnitsTotal)} {job.UnitsDone}/{job.UnitsTotal}")));
        // Without a known total (an archive written to a pipe) there is no percentage, only bytes read.
        grid.AddRow(new Text("table data"), job.BytesTotal > 0
            ? new Markup(string.Create(CultureInfo.InvariantCulture, $"{Bar(job.BytesDone, job.BytesTotal)} {job.BytesDone / 1048576.0:0.0}/{job.BytesTotal / 1048576.0:0.0} MB"))
            : new Text($"{ProgressText.Size(job.BytesDone)} read"));
        grid.AddRow(new Text("throughput"), new Text($"{ProgressText.Rate(Window.BytesPerSecond)}, ETA {ProgressText.Eta(Window.Eta(job.BytesTotal))}"));
        var now = DateTimeOffset.UtcNow;
        foreach (var unit in job.Running.OrderBy(u => u.Started).Take(RunningShown))
        {
            grid.AddRow(new Text("running"), new Text(ProgressText.Running(unit, now)));
        }

        if (job.Running.Count > RunningShown)
        {
            grid.AddRow(new Text(""), new Text($"and {job.Running.Count - RunningShown} more"));
        }

        foreach (var host in hosts)
        {
            grid.AddRow(new Text("host"), new Markup(string.Create(CultureInfo.InvariantCulture,
                $"{Markup.Escape(HostName)}  {host.InFlight}/{host.Budget} in flight{(host.Waiting > 0 ? $", {host.Waiting} waiting" : "")}")));
        }

        string errors = job.Errors > 0 ? $"[red]{job.Errors}[/]" : "0";
        grid.AddRow(new Text("errors"), new Markup(string.Create(CultureInfo.InvariantCulture, $"{errors}, retries {job.Retries}, leased {job.Leased}")));
        return new Panel(grid).Border(BoxBorder.Rounded);
    }

    private static string Bar(long done, long total)
    {
        double fraction = total <= 0 ? 1 : Math.Clamp((double)done / total, 0, 1);
        int filled = (int)Math.Round(fraction * BarWidth);
        // Floored like ProgressText.Percent: 100% only when everything is done.
        return string.Create(CultureInfo.InvariantCulture,
            $"[green]{new string('━', filled)}[/][grey]{new string('━', BarWidth - filled)}[/] {Math.Floor(fraction * 100),3:0}%");
    }
}
