using RestoreCluster.Benchmarks;

return args.Length > 0 && args[0] == "schedule" ? ScheduleBenchmark.Run(args[1..])
    : args.Length > 0 && args[0] == "coordinator" ? await CoordinatorBenchmark.RunAsync(args[1..])
    : args.Length > 0 && args[0] == "restore" ? await RestoreBenchmark.RunAsync(args[1..])
    : args.Length > 0 && args[0] == "protect" ? await ProtectBenchmark.RunAsync(args[1..])
    : args.Length > 0 && args[0] == "fleet" ? FleetSimulation.Run(args[1..])
    : args.Length > 0 && args[0] == "plot" ? BenchPlot.Run(args[1..])
    : Usage();

static int Usage()
{
    Console.Error.WriteLine("usage: RestoreCluster.Benchmarks schedule [--units N] [--workers N] [--runs N] [--seed N]");
    Console.Error.WriteLine("       RestoreCluster.Benchmarks coordinator [--tables N] [--workers N,N...] [--runs N]");
    Console.Error.WriteLine("       RestoreCluster.Benchmarks restore [--dataset all|many,bigtable,wide] [--jobs N,N...] [--rounds N] [--json FILE] [--wide-gb G] [--analyze yes|no]");
    Console.Error.WriteLine("       RestoreCluster.Benchmarks protect [--rate TPS] [--quiet-seconds N] [--json FILE]");
    Console.Error.WriteLine("       RestoreCluster.Benchmarks fleet [--seeds N] [--limit PERCENT]");
    Console.Error.WriteLine("       RestoreCluster.Benchmarks plot --json RESTORE.json --png FILE");
    return 2;
}
