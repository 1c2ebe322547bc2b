import Foundation

/// What ``PromptSetStore/open()`` found: the sets it can serve, the leftovers of interrupted
/// writes it removed, and the damaged entries it took out of service.
public struct StoreLoadReport: Sendable {
    /// An entry of the prompt-set directory that could not be loaded.
    public struct QuarantinedEntry: Sendable, Equatable {
        /// Its name in the prompt-set directory (usually a set id).
        public let name: String
        /// What is wrong with it.
        public let reason: String
        /// Where it now lies, under `<data_dir>/quarantine/`; nil when it was not moved: the
        /// file store could not move it (`moveFailure` says why; it stays where it was and is
        /// not served), or a database store set it aside in place.
        public let location: URL?
        /// Why it could not be moved, if it could not.
        public let moveFailure: String?

        /// An entry taken out of service for `reason`: moved to `location`, or not moved
        /// (a database store keeps it in place under another name; otherwise
        /// `moveFailure` says why).
        public init(name: String, reason: String, location: URL?, moveFailure: String?) {
            self.name = name
            self.reason = reason
            self.location = location
            self.moveFailure = moveFailure
        }
    }

    /// A staging or trash directory left by a write or delete that did not finish.
    public struct Leftover: Sendable, Equatable {
        /// Its name in the prompt-set directory.
        public let name: String
        /// Why it could not be removed, if it could not (it is retried at the next open).
        public let removalFailure: String?
    }

    /// The sets now served, sorted by creation time.
    public var loaded: [PromptSetRecord] = []
    /// Leftovers of interrupted writes and deletes, removed.
    public var leftovers: [Leftover] = []
    /// Damaged or unexpected entries, moved to the quarantine directory.
    public var quarantined: [QuarantinedEntry] = []

    /// An empty report, filled in by a store's ``PromptSetStore/open()``.
    public init() {}

    /// One line for the log.
    public var summary: String {
        "loaded \(loaded.count) prompt sets, removed \(leftovers.count) leftovers of interrupted writes, quarantined \(quarantined.count) damaged entries"
    }
}
