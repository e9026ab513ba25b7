using RestoreCluster.Grains;
using Xunit;

namespace RestoreCluster.Hosting.Tests;

/// <summary>A silo's --slots shared by all its jobs: never more held than its slots; a freed one goes where FleetPolicy says.</summary>
public sealed class SiloSlotsTests
{
    [Fact]
    public async Task NoMoreThanTheSlotsAreHeldAndAFreedOneGoesToTheHigherPriority()
    {
        var slots = new SiloSlots(1);
        Assert.True(await slots.TakeAsync("a", 0, 10, TimeSpan.Zero));
        var low = slots.TakeAsync("low", 0, 1000, TimeSpan.FromMinutes(1));
        var high = slots.TakeAsync("high", 5, 1, TimeSpan.FromMinutes(1));
        Assert.False(await slots.TakeAsync("c", 9, 10, TimeSpan.FromMilliseconds(10)));
        Assert.Equal((1, 2), (slots.Held, slots.Waiting));

        slots.Give();

        Assert.True(await high);
        Assert.False(low.IsCompleted);
        Assert.Equal((1, 1), (slots.Held, slots.Waiting));
        slots.Give();
        Assert.True(await low);
        Assert.Equal((1, 0), (slots.Held, slots.Waiting));
    }

    [Fact]
    public async Task OfEqualPriorityTheJobWithMoreWorkLeftGoesFirstAndZeroSlotsIsNoLimit()
    {
        var slots = new SiloSlots(1);
        Assert.True(await slots.TakeAsync("a", 0, 10, TimeSpan.Zero));
        var small = slots.TakeAsync("small", 0, 5, TimeSpan.FromMinutes(1));
        var big = slots.TakeAsync("big", 0, 500, TimeSpan.FromMinutes(1));
        slots.Give();
        Assert.True(await big);
        Assert.False(small.IsCompleted);

        var unlimited = new SiloSlots(0);
        for (int i = 0; i < 50; i++)
        {
            Assert.True(await unlimited.TakeAsync("j", 0, 1, TimeSpan.Zero));
        }
    }
}
