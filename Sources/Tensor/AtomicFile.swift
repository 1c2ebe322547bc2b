import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Crash-safe file replacement: write a temporary file in the same directory, fsync it,
/// rename it over the target, fsync the directory. After a crash at any point the target
/// holds either its old content or the complete new content, never a torn mix.
public enum AtomicFile {
    /// An error from the operating system, with the call that failed.
    public struct Failure: Error, CustomStringConvertible {
        /// The operation, e.g. `open`, `write`, `fsync`, `rename`.
        public let operation: String
        /// The path it was applied to.
        public let path: String
        /// `errno` at the time.
        public let code: Int32

        public var description: String {
            "\(operation) \(path): \(String(cString: strerror(code)))"
        }
    }

    /// A file descriptor open for writing, with a loop that survives short writes.
    public struct Handle {
        fileprivate let descriptor: Int32
        fileprivate let path: String

        /// Writes all of `bytes`.
        public func write(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { raw in try write(raw) }
        }

        /// Writes all of `raw`.
        public func write(_ raw: UnsafeRawBufferPointer) throws {
            var written = 0
            while written < raw.count {
                let result = Glibc.write(descriptor, raw.baseAddress! + written, raw.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    throw Failure(operation: "write", path: path, code: errno)
                }
                written += result
            }
        }
    }

    /// Replaces the file at `url` with what `body` writes.
    public static func write(to url: URL, permissions: mode_t = 0o644, _ body: (Handle) throws -> Void) throws {
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/.\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
        guard descriptor >= 0 else { throw Failure(operation: "open", path: temporary, code: errno) }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        do {
            defer { close(descriptor) }
            try body(Handle(descriptor: descriptor, path: temporary))
            guard fsync(descriptor) == 0 else { throw Failure(operation: "fsync", path: temporary, code: errno) }
        }
        guard rename(temporary, url.path) == 0 else { throw Failure(operation: "rename", path: url.path, code: errno) }
        renamed = true
        try syncDirectory(directory)
    }

    /// fsyncs a directory so that a rename or creation inside it is durable.
    public static func syncDirectory(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(operation: "open", path: path, code: errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw Failure(operation: "fsync", path: path, code: errno) }
    }
}
