import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Named moments inside a write, for crash tests only.
///
/// When the environment variable `INCTRL_FAULT_POINT` holds one of these names as the
/// store is created, the process ends with `_exit(137)` (the status of `kill -9`) the
/// first time a write reaches that moment — no cleanup, no flushing — so a test can
/// restart the store over what a crash leaves on disk and check that it finds either the
/// old state or the new one. Never set it in production.
public enum StoreFaultPoint: String, Sendable, CaseIterable {
    /// The first image of a new set is written and fsynced in its staging directory.
    case afterImageWrite = "after-image-write"
    /// Every image and the manifest are written; the staging directory is not yet synced.
    case afterManifestWrite = "after-manifest-write"
    /// The staging directory is complete and synced; it has not been renamed into place.
    case beforeRename = "before-rename"
    /// The set has been renamed into place; its parent directory is not yet synced.
    case afterRename = "after-rename"
    /// A deleted set has been renamed to its trash name but not yet removed.
    case afterTrashRename = "after-trash-rename"

    /// The environment variable that arms a fault point.
    public static let environmentVariable = "INCTRL_FAULT_POINT"

    /// The point armed in this process's environment, if any.
    static func fromEnvironment() -> StoreFaultPoint? {
        ProcessInfo.processInfo.environment[environmentVariable].flatMap(StoreFaultPoint.init(rawValue:))
    }
}
