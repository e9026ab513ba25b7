namespace RestoreCluster.Cli.Tests.Mutation;

internal enum MutationKind
{
    /// <summary>XOR one byte with a random non-zero mask.</summary>
    Flip,

    /// <summary>Overwrite one byte with a value that often matters (0, 1, 0x7f, 0x80, 0xff) or a random one.</summary>
    Set,

    /// <summary>Cut the file at a position.</summary>
    Truncate,

    /// <summary>Zero a range of bytes.</summary>
    ZeroRange,
}

/// <summary>One corruption of one file of an archive; deterministic given its fields.</summary>
internal sealed record ArchiveMutation(MutationSource Source, string File, MutationKind Kind, long Position, int Length, byte Value)
{
    public byte[] Apply(byte[] original)
    {
        switch (Kind)
        {
            case MutationKind.Truncate:
                return original[..(int)Position];
            case MutationKind.ZeroRange:
            {
                var copy = (byte[])original.Clone();
                int end = (int)Math.Min(copy.Length, Position + Length);
                Array.Clear(copy, (int)Position, end - (int)Position);
                return copy;
            }

            case MutationKind.Flip:
            {
                var copy = (byte[])original.Clone();
                copy[Position] ^= Value;
                return copy;
            }

            default:
            {
                var copy = (byte[])original.Clone();
                copy[Position] = Value;
                return copy;
            }
        }
    }

    public override string ToString()
    {
        string what = Kind switch
        {
            MutationKind.Flip => $"flip byte {Position} with 0x{Value:x2}",
            MutationKind.Set => $"set byte {Position} to 0x{Value:x2}",
            MutationKind.Truncate => $"truncate to {Position} bytes",
            _ => $"zero {Length} bytes from {Position}",
        };
        return $"{Source.Name}/{File}: {what}";
    }

    /// <summary>
    /// Draws one mutation: the file (for a directory, toc.dat half the time), the kind, and a position that
    /// is uniform over the file, or (40 %) inside the file's header and TOC region so the TOC parser is hit.
    /// </summary>
    public static ArchiveMutation Draw(MutationSource source, Random rng)
    {
        var file = source.Files[0];
        if (source.Files.Count > 1 && rng.Next(2) == 1)
        {
            file = source.Files[1 + rng.Next(source.Files.Count - 1)];
        }

        long length = file.Length;
        long Pick() => rng.NextDouble() < 0.4 ? rng.NextInt64(Math.Max(1, Math.Min(length, file.TocRegion))) : rng.NextInt64(length);
        int roll = rng.Next(100);
        if (roll < 55)
        {
            return new(source, file.Name, MutationKind.Flip, Pick(), 1, (byte)rng.Next(1, 256));
        }

        if (roll < 70)
        {
            byte[] interesting = [0x00, 0x01, 0x7f, 0x80, 0xff];
            byte value = rng.Next(2) == 0 ? interesting[rng.Next(interesting.Length)] : (byte)rng.Next(256);
            return new(source, file.Name, MutationKind.Set, Pick(), 1, value);
        }

        if (roll < 92)
        {
            return new(source, file.Name, MutationKind.Truncate, Pick(), 0, 0);
        }

        return new(source, file.Name, MutationKind.ZeroRange, Pick(), rng.Next(2) == 0 ? rng.Next(1, 17) : rng.Next(17, 4097), 0);
    }
}
