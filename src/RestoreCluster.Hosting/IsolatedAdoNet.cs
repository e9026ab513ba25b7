using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;

namespace RestoreCluster.Hosting;

/// <summary>
/// Orleans' AdoNet providers (clustering, and the grain storage of the silos), loaded with a copy of Npgsql of their own.
/// <para>
/// The provider binds named parameters (<c>@DeploymentId</c>), which Npgsql refuses while its SQL rewriting is
/// off (<c>Npgsql.EnableSqlRewriting</c>). The archive sessions need it off (docs/restore.md: rewriting would
/// split SQL-standard function bodies), and Npgsql reads the switch once per process, into a static field of
/// <c>NpgsqlCommand</c>. A silo runs both, so the provider and the Npgsql it loads (<c>Assembly.Load("Npgsql")</c>
/// from the provider resolves in the provider's load context) live in a load context of their own, whose
/// <c>NpgsqlCommand</c> is initialized while the switch is on; the process's own Npgsql keeps it off, and the
/// switch reads off again afterwards. Everything else (Orleans, the BCL) is shared with the default context.
/// </para>
/// <para>
/// The grain storage provider binds its parameters by name too, so it lives in the same load context, beside the
/// same isolated Npgsql. Its options take no serializer here: the storage serializer registered in the silo's
/// services (<see cref="ClusterHost"/>: Orleans' binary serializer) is the one it uses.
/// </para>
/// </summary>
public static class IsolatedAdoNet
{
    private const string ProviderAssembly = "Orleans.Clustering.AdoNet";
    private const string StorageAssembly = "Orleans.Persistence.AdoNet";
    private const string Switch = "Npgsql.EnableSqlRewriting";
    private static readonly Lazy<AssemblyLoadContext> Context = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The load context the providers and their Npgsql live in (tests look at it).</summary>
    public static AssemblyLoadContext LoadContext => Context.Value;

    /// <summary><c>UseAdoNetClustering</c> on a silo, through the isolated provider.</summary>
    public static ISiloBuilder UseClustering(ISiloBuilder silo, string connectionString)
    {
        Call("Orleans.Hosting.AdoNetHostingExtensions", typeof(ISiloBuilder), "Orleans.Configuration.AdoNetClusteringSiloOptions", silo, connectionString);
        return silo;
    }

    /// <summary><c>UseAdoNetClustering</c> on a client, through the isolated provider.</summary>
    public static IClientBuilder UseClustering(IClientBuilder client, string connectionString)
    {
        Call("Orleans.Hosting.AdoNetHostingExtensions", typeof(IClientBuilder), "Orleans.Configuration.AdoNetClusteringClientOptions", client, connectionString);
        return client;
    }

    /// <summary><c>AddAdoNetGrainStorage(name)</c> on a silo, through the isolated provider.</summary>
    public static ISiloBuilder UseGrainStorage(ISiloBuilder silo, string name, string connectionString)
    {
        var assembly = Context.Value.LoadFromAssemblyName(new AssemblyName(StorageAssembly));
        var configure = Configure(assembly, "Orleans.Configuration.AdoNetGrainStorageOptions", connectionString, out var actionType);
        var method = assembly.GetType("Orleans.Hosting.AdoNetGrainStorageSiloBuilderExtensions", throwOnError: true)!
            .GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Single(m => m.Name == "AddAdoNetGrainStorage" && m.GetParameters() is { Length: 3 } p
                && p[0].ParameterType == typeof(ISiloBuilder) && p[1].ParameterType == typeof(string) && p[2].ParameterType == actionType);
        method.Invoke(null, [silo, name, configure]);
        return silo;
    }

    // o => { o.Invariant = "Npgsql"; o.ConnectionString = connectionString; }, the options type being the isolated assembly's.
    private static Delegate Configure(Assembly assembly, string optionsTypeName, string connectionString, out Type actionType)
    {
        var optionsType = assembly.GetType(optionsTypeName, throwOnError: true)!;
        actionType = typeof(Action<>).MakeGenericType(optionsType);
        var options = Expression.Parameter(optionsType, "o");
        return Expression.Lambda(
            actionType,
            Expression.Block(
                Expression.Assign(Expression.Property(options, "Invariant"), Expression.Constant("Npgsql")),
                Expression.Assign(Expression.Property(options, "ConnectionString"), Expression.Constant(connectionString))),
            options).Compile();
    }

    // builder.UseAdoNetClustering(o => { o.Invariant = "Npgsql"; o.ConnectionString = connectionString; }), the
    // options type being the isolated assembly's.
    private static void Call(string extensions, Type builderType, string optionsTypeName, object builder, string connectionString)
    {
        var assembly = Context.Value.LoadFromAssemblyName(new AssemblyName(ProviderAssembly));
        var configure = Configure(assembly, optionsTypeName, connectionString, out var actionType);
        var method = assembly.GetType(extensions, throwOnError: true)!
            .GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Single(m => m.Name == "UseAdoNetClustering" && m.GetParameters() is { Length: 2 } p && p[0].ParameterType == builderType && p[1].ParameterType == actionType);
        method.Invoke(null, [builder, configure]);
    }

    private static AssemblyLoadContext Load()
    {
        // The process's Npgsql reads the switch first (as the restore needs it: off), then the isolated one reads it on.
        RuntimeHelpers.RunClassConstructor(typeof(Npgsql.NpgsqlCommand).TypeHandle);
        bool had = AppContext.TryGetSwitch(Switch, out bool before);
        var context = new ProviderLoadContext(AppContext.BaseDirectory);
        var npgsql = context.LoadFromAssemblyName(new AssemblyName("Npgsql"));
        AppContext.SetSwitch(Switch, true);
        try
        {
            RuntimeHelpers.RunClassConstructor(npgsql.GetType("Npgsql.NpgsqlCommand", throwOnError: true)!.TypeHandle);
        }
        finally
        {
            AppContext.SetSwitch(Switch, had ? before : true);
        }

        return context;
    }

    /// <summary>Loads the providers and Npgsql from the application folder; everything else from the default context.</summary>
    private sealed class ProviderLoadContext(string folder) : AssemblyLoadContext("restorecluster-adonet")
    {
        protected override Assembly? Load(AssemblyName name) =>
            name.Name is ProviderAssembly or StorageAssembly or "Npgsql" ? LoadFromAssemblyPath(Path.Combine(folder, name.Name + ".dll")) : null;
    }
}
