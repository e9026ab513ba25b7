namespace RestoreCluster.Archive;

/// <summary>
/// Members of a tar archive (pg_backup_tar.c): <c>toc.dat</c>, then <c>&lt;dumpId&gt;.dat</c> data members,
/// then per BLOBS entry the <c>blob_&lt;oid&gt;.dat</c> members followed by its index (<c>blobs.toc</c>, or
/// <c>blobs_&lt;dumpId&gt;.toc</c> from 1.16), then <c>restore.sql</c>. Data is never compressed.
/// The archive is walked forward once, as far as a request needs; members passed on a pipe are spooled.
/// </summary>
internal sealed class TarFormatSource : IDataSource
{
    private readonly string? _path;
    private readonly ArchiveInput _input;
    private readonly Spool _spool = new();
    private readonly Dictionary<string, (TarMember Member, long SpoolOffset)> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<TarMember>> _blobRuns = new(StringComparer.Ordinal);
    private readonly object _lock = new();
    private List<TarMember> _currentRun = [];
    private bool _ended;
    private bool _busy;
    private ArchiveHeader? _header;

    /// <summary>A seekable tar file.</summary>
    public TarFormatSource(string path)
    {
        _path = path;
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        _input = new ArchiveInput(fs, path);
    }

    /// <summary>A forward-only input at the start of the tar stream.</summary>
    public TarFormatSource(ArchiveInput input)
    {
        _input = input;
    }

    public ArchiveHeader Header
    {
        get => _header ?? throw new InvalidOperationException("the TOC has not been read");
        set => _header = value;
    }

    /// <summary>Opens the toc.dat member (pg_restore looks for it from the start of the archive).</summary>
    public Stream OpenToc() => OpenMember("toc.dat", "the archive's TOC");

    public Stream OpenData(TocEntry entry, DataReadCounter? counter)
    {
        if (entry.FileName is null)
        {
            return Stream.Null;
        }

        // tarOpen in read mode: "compression is not supported by tar archive format".
        if (Header.Compression != CompressionAlgorithm.None)
        {
            throw new ArchiveException($"the header of \"{_input.Name}\" says the data is compressed, which the tar format does not support (dump ID {entry.DumpId})");
        }

        // Tar members are never compressed: the member's bytes are the archive's bytes.
        return CountingStream.Wrap(OpenMember(entry.FileName, $"dump ID {entry.DumpId}, {entry.Desc} {entry.Tag}"), counter);
    }

    public IEnumerable<LargeObjectData> ReadLargeObjects(TocEntry entry)
    {
        string index = Header.Version >= ArchiveVersion.V1_16 ? $"blobs_{entry.DumpId}.toc" : "blobs.toc";
        List<TarMember> run;
        lock (_lock)
        {
            while (!_blobRuns.ContainsKey(index) && ScanOne(stopAt: null) is not null)
            {
            }

            if (!_blobRuns.TryGetValue(index, out run!))
            {
                throw new ArchiveException(
                    $"large object index member \"{index}\" of dump ID {entry.DumpId} not found in tar archive \"{_input.Name}\"");
            }
        }

        foreach (var member in run)
        {
            // pg_restore takes the OID from the member name blob_<oid>.dat.
            string digits = new(member.Name.AsSpan(5).ToArray().TakeWhile(char.IsAsciiDigit).ToArray());
            if (!uint.TryParse(digits, out uint oid) || oid == 0)
            {
                throw new ArchiveException($"invalid large object member name \"{member.Name}\" in tar archive \"{_input.Name}\"");
            }

            using var data = OpenMember(member.Name, $"dump ID {entry.DumpId}, large object {oid}");
            yield return new LargeObjectData(oid, data);
        }
    }

    /// <summary>pg_restore cannot restore tar archives in parallel and computes no data sizes.</summary>
    public void ComputeDataLengths(IReadOnlyList<TocEntry> entries)
    {
    }

    public void Dispose()
    {
        _spool.Dispose();
        if (_path is not null)
        {
            _input.BaseStream.Dispose();
        }
    }

    private Stream OpenMember(string name, string where)
    {
        lock (_lock)
        {
            if (_members.TryGetValue(name, out var known))
            {
                return OpenKnown(known.Member, known.SpoolOffset);
            }

            if (_busy)
            {
                throw new InvalidOperationException("the previous member of a piped tar archive is still open");
            }

            while (ScanOne(stopAt: name) is { } member)
            {
                if (member.Name == name)
                {
                    if (_path is not null)
                    {
                        return OpenKnown(member, -1);
                    }

                    // Hand out the live pipe; what is left of the member and its padding is skipped on dispose.
                    _busy = true;
                    return new LiveMember(this, member);
                }
            }

            throw new ArchiveException($"could not find member \"{name}\" ({where}) in tar archive \"{_input.Name}\"");
        }
    }

    private Stream OpenKnown(TarMember member, long spoolOffset)
    {
        if (_path is null)
        {
            return _spool.OpenRegion(spoolOffset, member.Size);
        }

        var fs = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        fs.Seek(member.DataOffset, SeekOrigin.Begin);
        return new SubStream(fs, member.Size, ownsInner: true)
        {
            OnTruncated = left => new ArchiveException(
                $"tar member \"{member.Name}\" of \"{_path}\" is truncated: {left} byte(s) missing"),
        };
    }

    /// <summary>
    /// Reads the next member header. Unless it is <paramref name="stopAt"/>, its data is skipped (seekable)
    /// or spooled (pipe) and the member indexed. Returns null at the end of the archive.
    /// </summary>
    private TarMember? ScanOne(string? stopAt)
    {
        if (_ended)
        {
            return null;
        }

        _input.Context = "tar member header";
        var member = TarMember.ReadNext(_input);
        if (member is null)
        {
            _ended = true;
            return null;
        }

        if (_path is not null && member.DataOffset + member.Size > _input.BaseStream.Length)
        {
            throw new ArchiveException(
                $"tar member \"{member.Name}\" of \"{_path}\" is truncated: it needs {member.Size} bytes from byte {member.DataOffset}, the file has {_input.BaseStream.Length}");
        }

        Track(member);
        if (member.Name == stopAt)
        {
            if (_path is not null)
            {
                _members.TryAdd(member.Name, (member, -1));
                _input.Context = $"tar member \"{member.Name}\"";
                _input.Skip(member.Size + member.Padding);
            }

            return member;
        }

        _input.Context = $"tar member \"{member.Name}\"";
        long spoolOffset = -1;
        if (_path is null)
        {
            spoolOffset = _spool.Append(_input, member.Size);
            _input.Skip(member.Padding);
        }
        else
        {
            _input.Skip(member.Size + member.Padding);
        }

        _members.TryAdd(member.Name, (member, spoolOffset));
        return member;
    }

    // pg_restore's _LoadLOs reads the blob_ members that follow until the next other member, which is the
    // BLOBS entry's index: remember each run of blob_ members under the index that ends it.
    private void Track(TarMember member)
    {
        if (member.Name.StartsWith("blob_", StringComparison.Ordinal))
        {
            _currentRun.Add(member);
            return;
        }

        if (member.Name.StartsWith("blobs", StringComparison.Ordinal) && member.Name.EndsWith(".toc", StringComparison.Ordinal))
        {
            _blobRuns.TryAdd(member.Name, _currentRun);
        }

        _currentRun = [];
    }

    private sealed class LiveMember(TarFormatSource owner, TarMember member) : ForwardStream
    {
        private long _left = member.Size;
        private bool _disposed;

        public override int Read(Span<byte> buffer)
        {
            if (_left == 0 || buffer.Length == 0)
            {
                return 0;
            }

            owner._input.Context = $"tar member \"{member.Name}\"";
            int n = owner._input.ReadAtMost(buffer[..(int)Math.Min(buffer.Length, _left)]);
            if (n == 0)
            {
                throw new ArchiveException($"tar member \"{member.Name}\" of \"{owner._input.Name}\" is truncated: {_left} byte(s) missing");
            }

            _left -= n;
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_disposed)
            {
                _disposed = true;
                lock (owner._lock)
                {
                    owner._busy = false;
                    owner._input.Context = $"tar member \"{member.Name}\"";
                    owner._input.Skip(_left + member.Padding);
                }
            }

            base.Dispose(disposing);
        }
    }
}
