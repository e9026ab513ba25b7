namespace RestoreCluster.LocalPostgres;

/// <summary>A throwaway server or a PostgreSQL tool failed; the message is one line that names what and why.</summary>
public sealed class LocalPostgresException(string message, Exception? inner = null) : Exception(message, inner);
