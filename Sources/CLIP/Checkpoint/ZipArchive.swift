import CZlib
import Tensor

/// The read-only subset of the zip format that PyTorch checkpoints use (APPNOTE 6.3.x):
/// the central directory (with Zip64 records for large files), stored entries only, and
/// CRC-32 verification. Every offset is checked against the file before it is followed.
struct ZipArchive {
    /// One stored entry.
    struct Entry {
        let name: String
        let crc32: UInt32
        /// Where the entry's bytes lie in the file.
        let dataRange: Range<Int>
    }

    let file: MappedFile
    /// Entries by name, in central-directory order.
    let entries: [Entry]
    private let index: [String: Int]

    private static let endOfCentralDirectory: UInt32 = 0x0605_4b50
    private static let zip64Locator: UInt32 = 0x0706_4b50
    private static let zip64EndOfCentralDirectory: UInt32 = 0x0606_4b50
    private static let centralHeader: UInt32 = 0x0201_4b50
    private static let localHeader: UInt32 = 0x0403_4b50

    init(file: MappedFile) throws(CheckpointError) {
        self.file = file
        let reader = ByteReader(file.bytes)
        let directory = try Self.locateCentralDirectory(reader)
        var entries: [Entry] = []
        var offset = directory.offset
        for _ in 0..<directory.count {
            let (entry, next) = try Self.readCentralEntry(reader, at: offset)
            entries.append(entry)
            offset = next
        }
        self.entries = entries
        var index: [String: Int] = [:]
        for (position, entry) in entries.enumerated() where index[entry.name] == nil {
            index[entry.name] = position
        }
        self.index = index
    }

    /// The entry called `name`, if any.
    func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The bytes of `entry`, after checking its CRC-32 when `verify` is set.
    func bytes(of entry: Entry, verify: Bool = true) throws(CheckpointError) -> UnsafeRawBufferPointer {
        let slice = UnsafeRawBufferPointer(rebasing: file.bytes[entry.dataRange])
        if verify, Self.crc32(slice) != entry.crc32 { throw .checksumMismatch(name: entry.name) }
        return slice
    }

    /// zlib's CRC-32, fed in chunks because its length argument is 32-bit.
    static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt = 0
        var start = 0
        while start < bytes.count {
            let length = min(bytes.count - start, 1 << 30)
            crc = CZlib.crc32(crc, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) + start, UInt32(length))
            start += length
        }
        return UInt32(crc)
    }

    private static func locateCentralDirectory(_ reader: ByteReader) throws(CheckpointError) -> (offset: Int, count: Int) {
        let size = reader.count
        guard size >= 22 else { throw .notZipArchive(detail: "\(size) bytes is too short") }
        // The end record is the last 22 bytes plus a comment of at most 65535 bytes.
        var position = size - 22
        let lowest = max(0, size - 22 - 65535)
        while position >= lowest, try reader.u32(position) != endOfCentralDirectory { position -= 1 }
        guard position >= lowest else {
            let head = try reader.u32(0)
            if head & 0xFFFF == 0x0280 || head & 0xFF == 0x80 {
                throw .notZipArchive(detail: "looks like the legacy pre-1.6 PyTorch format; re-save it with torch.save in a current PyTorch")
            }
            throw .notZipArchive(detail: "no end-of-central-directory record")
        }
        var count = Int(try reader.u16(position + 10))
        var directorySize = Int(try reader.u32(position + 12))
        var offset = Int(try reader.u32(position + 16))
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
            let locator = position - 20
            guard locator >= 0, try reader.u32(locator) == zip64Locator else {
                throw .corruptArchive("Zip64 sizes without a Zip64 locator")
            }
            let record = try reader.int64(locator + 8)
            guard try reader.u32(record) == zip64EndOfCentralDirectory else {
                throw .corruptArchive("Zip64 end record not where its locator says")
            }
            count = try reader.int64(record + 32)
            directorySize = try reader.int64(record + 40)
            offset = try reader.int64(record + 48)
        }
        guard offset <= size, directorySize <= size - offset, count <= directorySize / 46 + 1 else {
            throw .corruptArchive("central directory (offset \(offset), \(directorySize) bytes, \(count) entries) does not fit the file")
        }
        return (offset, count)
    }

    private static func readCentralEntry(_ reader: ByteReader, at offset: Int) throws(CheckpointError) -> (Entry, next: Int) {
        guard try reader.u32(offset) == centralHeader else {
            throw .corruptArchive("bad central directory signature at byte \(offset)")
        }
        let flags = try reader.u16(offset + 8)
        let method = try reader.u16(offset + 10)
        let crc = try reader.u32(offset + 16)
        var compressedSize = Int(try reader.u32(offset + 20))
        var size = Int(try reader.u32(offset + 24))
        let nameLength = Int(try reader.u16(offset + 28))
        let extraLength = Int(try reader.u16(offset + 30))
        let commentLength = Int(try reader.u16(offset + 32))
        var localOffset = Int(try reader.u32(offset + 42))
        let name = String(decoding: try reader.slice(offset + 46, nameLength), as: UTF8.self)

        // Zip64 extended information: the 64-bit values of the fields set to 0xFFFFFFFF, in order.
        var extra = offset + 46 + nameLength
        let extraEnd = extra + extraLength
        while extra + 4 <= extraEnd {
            let tag = try reader.u16(extra), length = Int(try reader.u16(extra + 2))
            if tag == 0x0001 {
                var field = extra + 4
                if size == 0xFFFF_FFFF { size = try reader.int64(field); field += 8 }
                if compressedSize == 0xFFFF_FFFF { compressedSize = try reader.int64(field); field += 8 }
                if localOffset == 0xFFFF_FFFF { localOffset = try reader.int64(field) }
            }
            extra += 4 + length
        }

        guard flags & 0x1 == 0 else { throw .unsupportedEntry(name: name, reason: "encrypted") }
        guard method == 0 else {
            throw .unsupportedEntry(name: name, reason: "compression method \(method); torch.save writes stored entries")
        }
        guard compressedSize == size else { throw .corruptArchive("stored entry \(name) has differing sizes") }
        guard try reader.u32(localOffset) == localHeader else {
            throw .corruptArchive("entry \(name) has no local header at byte \(localOffset)")
        }
        let dataStart = localOffset + 30 + Int(try reader.u16(localOffset + 26)) + Int(try reader.u16(localOffset + 28))
        guard dataStart <= reader.count, size <= reader.count - dataStart else {
            throw .corruptArchive("entry \(name) (\(size) bytes at \(dataStart)) runs past the end of the file")
        }
        let entry = Entry(name: name, crc32: crc, dataRange: dataStart..<(dataStart + size))
        return (entry, offset + 46 + nameLength + extraLength + commentLength)
    }
}

/// Bounds-checked little-endian reads from a byte buffer.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var count: Int { bytes.count }

    private func check(_ offset: Int, _ length: Int) throws(CheckpointError) {
        guard offset >= 0, length >= 0, offset <= bytes.count, length <= bytes.count - offset else {
            throw .corruptArchive("a record at byte \(offset) runs past the end of the file")
        }
    }

    func u16(_ offset: Int) throws(CheckpointError) -> UInt16 {
        try check(offset, 2)
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    func u32(_ offset: Int) throws(CheckpointError) -> UInt32 {
        try check(offset, 4)
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// A 64-bit length or offset; values beyond `Int.max` cannot address this file anyway.
    func int64(_ offset: Int) throws(CheckpointError) -> Int {
        try check(offset, 8)
        let value = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        guard value <= UInt64(Int.max) else { throw .corruptArchive("a 64-bit field at byte \(offset) is out of range") }
        return Int(value)
    }

    func slice(_ offset: Int, _ length: Int) throws(CheckpointError) -> UnsafeRawBufferPointer {
        try check(offset, length)
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
    }
}
