import Dispatch
import Synchronization

/// A fixed number of ``PostgresConnection``s, each with its own serial dispatch queue.
///
/// libpq blocks the calling thread for the whole round trip, so no database call may run on
/// Swift's cooperative pool (it would starve every other task) or on the HTTP event loops.
/// A caller awaits a free slot, its work runs on that slot's queue, and the result comes
/// back through a continuation. A slot serves one caller at a time, so at most `size`
/// threads ever block in libpq and at most `size` server connections are open.
///
/// Time is bounded by the connection: `connect_timeout` for connecting, the server's
/// `statement_timeout` for a statement, TCP keepalives and `tcp_user_timeout` for a silent
/// network (see ``PostgresConnection/init(url:connectTimeout:statementTimeout:)``). A caller
/// waiting for a slot waits for those.
final class PostgresConnectionPool: Sendable {
    /// A connection and the queue it is used on. Only the caller holding the slot touches
    /// the connection, and only from the queue.
    private final class Slot: @unchecked Sendable {
        let connection: PostgresConnection
        let queue: DispatchQueue

        init(connection: PostgresConnection, queue: DispatchQueue) {
            self.connection = connection
            self.queue = queue
        }
    }

    private struct State {
        var idle: [Int]
        var waiters: [CheckedContinuation<Int, Never>] = []
    }

    private let slots: [Slot]
    private let state: Mutex<State>

    /// `size` connections to `url`, none opened until first used.
    init(url: String, size: Int, connectTimeout: Int, statementTimeout: Int) {
        precondition(size >= 1, "a connection pool needs at least one connection")
        slots = (0..<size).map { index in
            Slot(
                connection: PostgresConnection(url: url, connectTimeout: connectTimeout, statementTimeout: statementTimeout),
                queue: DispatchQueue(label: "inctrl-postgres-\(index)"))
        }
        state = Mutex(State(idle: Array((0..<size).reversed())))
    }

    /// Runs `body` with a connection of its own, on that connection's queue.
    ///
    /// When the connection was working before the call and breaks during it (the server
    /// restarted or failed over while the connection sat idle), `body` runs once more on a
    /// fresh connection: every call the store makes may be repeated, since its writes are
    /// single transactions that either did not happen or are found done by the repeat.
    func withConnection<Value: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws(PostgresError) -> Value
    ) async throws(PostgresError) -> Value {
        let index = await acquire()
        defer { release(index) }
        let slot = slots[index]
        let result: Result<Value, PostgresError> = await withCheckedContinuation { continuation in
            slot.queue.async {
                continuation.resume(returning: Self.run(body, on: slot.connection))
            }
        }
        return try result.get()
    }

    private static func run<Value>(
        _ body: (PostgresConnection) throws(PostgresError) -> Value, on connection: PostgresConnection
    ) -> Result<Value, PostgresError> {
        let wasWorking = !connection.isBroken
        do {
            return .success(try body(connection))
        } catch {
            guard case .connection = error, wasWorking else { return .failure(error) }
            do {
                return .success(try body(connection))
            } catch {
                return .failure(error)
            }
        }
    }

    private func acquire() async -> Int {
        if let index = state.withLock({ $0.idle.popLast() }) { return index }
        return await withCheckedContinuation { continuation in
            let index: Int? = state.withLock { state in
                if let index = state.idle.popLast() { return index }
                state.waiters.append(continuation)
                return nil
            }
            if let index { continuation.resume(returning: index) }
        }
    }

    private func release(_ index: Int) {
        let waiter: CheckedContinuation<Int, Never>? = state.withLock { state in
            guard !state.waiters.isEmpty else {
                state.idle.append(index)
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume(returning: index)
    }
}
