import Foundation
import Tensor
#if canImport(Glibc)
import Glibc
#endif

/// The POSIX calls the write protocol and the scan are made of, each turning `errno` into
/// a ``PromptSetStoreError/fileSystem(operation:path:reason:)`` that names the call and path.
enum Disk {
    /// What a path names, seen without following a final symbolic link.
    enum EntryKind {
        case directory, regularFile, other
    }

    /// Why a stored file could not be read back as expected.
    enum ReadFailure: Error, CustomStringConvertible {
        case missing
        case notRegularFile
        case sizeMismatch(expected: Int, actual: Int)
        case tooLarge(limit: Int, actual: Int)
        case system(operation: String, reason: String)

        var description: String {
            switch self {
            case .missing: "is missing"
            case .notRegularFile: "is not a regular file"
            case let .sizeMismatch(expected, actual): "has \(actual) bytes, the manifest says \(expected)"
            case let .tooLarge(limit, actual): "has \(actual) bytes, more than the \(limit) allowed"
            case let .system(operation, reason): "cannot be read (\(operation): \(reason))"
            }
        }
    }

    static func failure(_ operation: String, _ path: String, code: Int32 = errno) -> PromptSetStoreError {
        .fileSystem(operation: operation, path: path, reason: String(cString: strerror(code)))
    }

    static func makeDirectory(_ path: String) throws(PromptSetStoreError) {
        guard mkdir(path, 0o755) == 0 else { throw failure("mkdir", path) }
    }

    /// Creates the directory and any missing parents; an existing directory is fine.
    static func makeDirectories(_ path: String) throws(PromptSetStoreError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw .fileSystem(operation: "mkdir", path: path, reason: "\(error.localizedDescription)")
        }
    }

    /// Writes a file that must not exist yet and fsyncs it before returning, so that once
    /// its directory is synced the content is durable too.
    static func writeNewFile(_ path: String, _ bytes: [UInt8]) throws(PromptSetStoreError) {
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure("open", path) }
        defer { close(descriptor) }
        let writeError: Int32 = bytes.withUnsafeBytes { raw in
            var written = 0
            while written < raw.count {
                let result = write(descriptor, raw.baseAddress! + written, raw.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                written += result
            }
            return 0
        }
        guard writeError == 0 else { throw failure("write", path, code: writeError) }
        guard fsync(descriptor) == 0 else { throw failure("fsync", path) }
    }

    /// Reads a whole regular file, refusing symbolic links and, before reading a byte,
    /// any size other than `expectedBytes` (when given) or above `maxBytes`.
    static func readRegularFile(_ path: String, expectedBytes: Int? = nil, maxBytes: Int) throws(ReadFailure) -> [UInt8] {
        let descriptor = Glibc.open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            switch errno {
            case ENOENT: throw .missing
            case ELOOP: throw .notRegularFile
            default: throw .system(operation: "open", reason: String(cString: strerror(errno)))
            }
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw .system(operation: "fstat", reason: String(cString: strerror(errno)))
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw .notRegularFile }
        let size = Int(status.st_size)
        if let expectedBytes, size != expectedBytes { throw .sizeMismatch(expected: expectedBytes, actual: size) }
        guard size <= maxBytes else { throw .tooLarge(limit: maxBytes, actual: size) }

        var bytes = [UInt8](repeating: 0, count: size)
        let outcome: (count: Int, error: Int32) = bytes.withUnsafeMutableBytes { raw in
            var total = 0
            while total < raw.count {
                let result = read(descriptor, raw.baseAddress! + total, raw.count - total)
                if result < 0 {
                    if errno == EINTR { continue }
                    return (total, errno)
                }
                if result == 0 { break }
                total += result
            }
            return (total, 0)
        }
        guard outcome.error == 0 else {
            throw .system(operation: "read", reason: String(cString: strerror(outcome.error)))
        }
        // The file shrank between fstat and read.
        guard outcome.count == size else { throw .sizeMismatch(expected: size, actual: outcome.count) }
        return bytes
    }

    static func entryKind(_ path: String) -> EntryKind? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        switch status.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .regularFile
        default: return .other
        }
    }

    static func rename(_ source: String, _ destination: String) throws(PromptSetStoreError) {
        guard Glibc.rename(source, destination) == 0 else { throw failure("rename", "\(source) to \(destination)") }
    }

    /// fsyncs a directory so that entries created, renamed or removed in it are durable.
    static func syncDirectory(_ path: String) throws(PromptSetStoreError) {
        do {
            try AtomicFile.syncDirectory(path)
        } catch let failure as AtomicFile.Failure {
            throw .fileSystem(operation: failure.operation, path: failure.path, reason: String(cString: strerror(failure.code)))
        } catch {
            throw .fileSystem(operation: "fsync", path: path, reason: "\(error)")
        }
    }

    static func removeTree(_ path: String) throws(PromptSetStoreError) {
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw .fileSystem(operation: "remove", path: path, reason: "\(error.localizedDescription)")
        }
    }

    /// The names in a directory, sorted, hidden ones included.
    static func contents(of path: String) throws(PromptSetStoreError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        } catch {
            throw .fileSystem(operation: "list", path: path, reason: "\(error.localizedDescription)")
        }
    }

    /// A random suffix that keeps staging, trash and quarantine names unique.
    static func uniqueSuffix() -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }
}
