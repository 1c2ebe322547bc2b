import Foundation
import Service
import Synchronization

/// Follows the changes other replicas make to the store: one connection of its own, on a
/// thread of its own, `LISTEN`ing on ``channel``, turning each notice into a
/// ``Service/PromptSetChange``.
///
/// Every write of ``PostgresStore`` sends its notice with `pg_notify` inside its own
/// transaction, so the notice goes out exactly when the write commits and never for a write
/// that rolled back. A notice names the store instance that sent it (``PostgresStore/origin``),
/// and a replica's own notices are skipped. Notices sent while the listener is not connected
/// are lost by PostgreSQL's design; so each time it (re)connects it reports
/// ``Service/PromptSetChange/resynchronize``, and the registry compares every set with the
/// database again. It retries a lost connection every second.
final class PostgresChangeListener: Sendable {
    /// The channel every replica of one database notifies and listens on.
    static let channel = "inctrl_prompt_sets"

    private let url: String
    private let origin: String
    private let connectTimeout: Int
    private let stopped = Atomic<Bool>(false)

    init(url: String, origin: String, connectTimeout: Int) {
        self.url = url
        self.origin = origin
        self.connectTimeout = connectTimeout
    }

    /// The changes, from now until the stream's consumer stops.
    func changes() -> AsyncStream<PromptSetChange> {
        let (stream, continuation) = AsyncStream.makeStream(of: PromptSetChange.self, bufferingPolicy: .unbounded)
        continuation.onTermination = { [self] _ in stopped.store(true, ordering: .relaxed) }
        let thread = Thread { [self] in run(continuation) }
        thread.name = "inctrl-postgres-listen"
        thread.start()
        return stream
    }

    private func run(_ continuation: AsyncStream<PromptSetChange>.Continuation) {
        let connection = PostgresConnection(url: url, connectTimeout: connectTimeout, statementTimeout: 10_000)
        var listening = false
        while !stopped.load(ordering: .relaxed) {
            do {
                if !listening {
                    try connection.execute("LISTEN \(Self.channel)")
                    listening = true
                    continuation.yield(.resynchronize)
                }
                for payload in try connection.notifications(waitingUpTo: 500) {
                    if let change = Self.change(payload, skippingOrigin: origin) { continuation.yield(change) }
                }
            } catch {
                listening = false
                Thread.sleep(forTimeInterval: 1)
            }
        }
        continuation.finish()
    }

    /// The payload of a notice: `<kind> <set id> <origin>`.
    static func payload(_ kind: String, _ id: PromptSetID, origin: String) -> String {
        "\(kind) \(id.hex) \(origin)"
    }

    /// The change a notice reports, or nil for one this store sent itself (or cannot read).
    static func change(_ payload: String, skippingOrigin origin: String) -> PromptSetChange? {
        let fields = payload.split(separator: " ")
        guard fields.count == 3, fields[2] != origin, let id = PromptSetID(String(fields[1])) else { return nil }
        switch fields[0] {
        case "created": return .created(id)
        case "deleted": return .deleted(id)
        case "changed": return .changed(id)
        default: return nil
        }
    }
}
