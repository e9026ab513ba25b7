using RestoreCluster.Archive;
using RestoreCluster.Planning;

namespace RestoreCluster.Grains;

/// <summary>
/// How progress displays name an entry: its kind and qualified name, e.g. <c>TABLE DATA public.orders</c>; a chunk of
/// a split table's data adds which one, <c>TABLE DATA public.orders (chunk 2/3)</c>.
/// </summary>
internal static class UnitLabels
{
    public static string Of(TocEntry te, TableChunk? chunk = null)
    {
        string label = string.IsNullOrEmpty(te.Namespace) ? $"{te.Desc} {te.Tag}" : $"{te.Desc} {te.Namespace}.{te.Tag}";
        return chunk is { } c ? $"{label} {c}" : label;
    }
}
