import Foundation
import Tensor
#if canImport(Glibc)
import Glibc
#endif

/// What `stat` says about a file that any change to its content also changes: size,
/// modification and status-change times (nanoseconds), inode and device.
///
/// Rewriting a file in place moves its modification time; replacing it (a copy renamed over
/// it, a new image layer, another mount) gives a new inode or device; and the status-change
/// time, which no program can set back, moves on any write, so even a copy that keeps the old
/// modification time (`cp -p`) shows. Equal fingerprints are what lets ``ModelHashCache`` reuse
/// a digest instead of reading the whole file again.
public struct FileFingerprint: Sendable, Equatable {
    /// Size in bytes.
    public let size: Int64
    /// Last modification, nanoseconds since the epoch.
    public let modifiedNanoseconds: Int64
    /// Last status change (any write, rename, chmod or link), nanoseconds since the epoch.
    public let changedNanoseconds: Int64
    /// Inode number.
    public let inode: UInt64
    /// Device holding the inode.
    public let device: UInt64

    public init(size: Int64, modifiedNanoseconds: Int64, changedNanoseconds: Int64, inode: UInt64, device: UInt64) {
        self.size = size
        self.modifiedNanoseconds = modifiedNanoseconds
        self.changedNanoseconds = changedNanoseconds
        self.inode = inode
        self.device = device
    }

    /// The fingerprint of the file at `path` (following symbolic links, as reading it does).
    public init(path: String) throws(MappedFile.Failure) {
        var status = stat()
        guard stat(path, &status) == 0 else { throw MappedFile.Failure(path: path, reason: String(cString: strerror(errno))) }
        self.init(
            size: Int64(status.st_size),
            modifiedNanoseconds: Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec),
            changedNanoseconds: Int64(status.st_ctim.tv_sec) * 1_000_000_000 + Int64(status.st_ctim.tv_nsec),
            inode: UInt64(status.st_ino), device: UInt64(status.st_dev))
    }
}
