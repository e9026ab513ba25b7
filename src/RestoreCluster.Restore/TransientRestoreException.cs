namespace RestoreCluster.Restore;

/// <summary>A unit's session was lost (terminated backend, restarting server): the unit can run again.</summary>
public sealed class TransientRestoreException(string message, Exception inner) : Exception(message, inner);
