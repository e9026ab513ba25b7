namespace RestoreCluster.Grains;

/// <summary>A silo's worker settings (<c>restorecluster silo --slots N</c>).</summary>
public sealed class WorkerOptions
{
    /// <summary>The most units this silo runs at once for one job; 0: as many as the job asks (-j), as the embedded silo does.</summary>
    public int Slots { get; set; }

    /// <summary>The slots a job asking for <paramref name="asked"/> gets on a silo with <paramref name="siloSlots"/>.</summary>
    public static int SlotsFor(int asked, int siloSlots) => siloSlots > 0 ? Math.Min(asked, siloSlots) : asked;
}
