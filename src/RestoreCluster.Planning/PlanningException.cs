namespace RestoreCluster.Planning;

/// <summary>A restore request that cannot be planned (bad -L file, unknown names with --strict-names).</summary>
public sealed class PlanningException : Exception
{
    public PlanningException(string message)
        : base(message)
    {
    }

    public PlanningException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
