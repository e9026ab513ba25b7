namespace RestoreCluster.Hosting;
