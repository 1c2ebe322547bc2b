import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A regular file mapped read-only into memory.
///
/// The mapping is never written through, so the value can be shared between threads.
/// Large model files are read through this so that their pages can be released after use
/// (``releasePages(_:)``) instead of holding the file and its decoded copy at once.
public final class MappedFile: @unchecked Sendable {
    /// Why a file could not be mapped.
    public struct Failure: Error, CustomStringConvertible {
        /// The file.
        public let path: String
        /// What went wrong.
        public let reason: String

        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }

        public var description: String { "cannot read \(path): \(reason)" }
    }

    /// The file's path.
    public let path: String
    /// The file's bytes (empty for an empty file).
    public let bytes: UnsafeRawBufferPointer

    /// Maps the regular file at `path`.
    public init(path: String) throws(Failure) {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw Failure(path: path, reason: "not a regular file") }
        let size = Int(status.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), mapped != MAP_FAILED else {
            throw Failure(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: mapped, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }

    /// Drops the whole pages inside `range` from this process's resident set; the kernel
    /// reads them again from the file if they are touched later.
    public func releasePages(_ range: Range<Int>) {
        guard let base = bytes.baseAddress else { return }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (range.lowerBound + pageSize - 1) / pageSize * pageSize
        let last = min(range.upperBound, bytes.count) / pageSize * pageSize
        guard last > first else { return }
        madvise(UnsafeMutableRawPointer(mutating: base + first), last - first, MADV_DONTNEED)
    }
}
