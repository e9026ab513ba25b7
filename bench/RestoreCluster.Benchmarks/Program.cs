using RestoreCluster.Benchmarks;

return args.Length > 0 && args[0] == "schedule"
    ? ScheduleBenchmark.Run(args[1..])
    : Usage();

static int Usage()
{
    Console.Error.WriteLine("usage: RestoreCluster.Benchmarks schedule [--units N] [--workers N] [--runs N] [--seed N]");
    return 2;
}
