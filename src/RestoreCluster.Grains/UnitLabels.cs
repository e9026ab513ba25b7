using RestoreCluster.Archive;

namespace RestoreCluster.Grains;

/// <summary>How progress displays name an entry: its kind and qualified name, e.g. <c>TABLE DATA public.orders</c>.</summary>
internal static class UnitLabels
{
    public static string Of(TocEntry te) =>
        string.IsNullOrEmpty(te.Namespace) ? $"{te.Desc} {te.Tag}" : $"{te.Desc} {te.Namespace}.{te.Tag}";
}
