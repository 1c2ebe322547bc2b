import Foundation
import Testing
@testable import Service

/// `offload` runs its work on the pool's own threads at the lowest priority, without
/// lowering anyone else's, and hands back results and errors.
struct OffloadPoolTests {
    struct Failure: Error, Equatable {}

    /// The priority and name of the thread the work ran on.
    static func placement() -> (niceness: Int32, name: String?) {
        (getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0), Thread.current.name)
    }

    @Test func runsAtTheLowestPriorityOnItsOwnThreads() async throws {
        let before = Self.placement().niceness
        let inside = try await offload { Self.placement() }
        #expect(inside.niceness == 19)
        #expect(inside.name == "inctrl-offload")
        // Only the pool's threads are lowered: this thread (and so the process) keeps its own.
        #expect(Self.placement().niceness == before)
        #expect(before != 19)
    }

    @Test func returnsResultsAndErrors() async throws {
        let values = try await withThrowingTaskGroup(of: Int.self) { group in
            for value in 0..<64 { group.addTask { try await offload { value * value } } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(values.sorted() == (0..<64).map { $0 * $0 })
        await #expect(throws: Failure()) { try await offload { () throws -> Int in throw Failure() } }
    }

    @Test func startsWorkInTheOrderItWasSubmitted() {
        let pool = OffloadPool(threads: 1, niceness: 19)
        let order = Order()
        let done = DispatchSemaphore(value: 0)
        for index in 0..<100 {
            pool.submit {
                order.append(index)
                if index == 99 { done.signal() }
            }
        }
        done.wait()
        #expect(order.values == Array(0..<100))
    }

    /// Indices in the order the pool ran them.
    final class Order: @unchecked Sendable {
        private let lock = NSLock()
        private var indices: [Int] = []
        func append(_ index: Int) { lock.withLock { indices.append(index) } }
        var values: [Int] { lock.withLock { indices } }
    }
}
