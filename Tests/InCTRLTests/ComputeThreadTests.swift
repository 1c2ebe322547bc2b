import Foundation
import Synchronization
import Testing
@testable import InCTRL

@Suite struct ComputeThreadTests {
    /// Jobs run in submission order, all on one thread that is not the submitter's.
    @Test func runsJobsInOrderOnOneThread() async throws {
        let thread = ComputeThread(name: "test-compute")
        let seen = Mutex<[(index: Int, thread: pthread_t)]>([])
        let done = DispatchSemaphore(value: 0)
        for index in 0..<50 {
            thread.submit {
                seen.withLock { $0.append((index, pthread_self())) }
                if index == 49 { done.signal() }
            }
        }
        done.wait()
        let records = seen.withLock { $0 }
        #expect(records.map(\.index) == Array(0..<50))
        #expect(Set(records.map { UInt($0.thread) }).count == 1)
        #expect(records.allSatisfy { pthread_equal($0.thread, pthread_self()) == 0 })
    }

    /// Every request a model actor admits computes on the same thread, so oneDNN's OpenMP
    /// keeps one team of workers.
    @Test func modelActorComputesOnOneThread() async throws {
        let (model, _) = try InCTRLModelTests.loaded.get()
        let actor = ModelActor(model: model, capacity: 16)
        let threads = try await withThrowingTaskGroup(of: UInt.self) { group in
            for _ in 0..<16 {
                group.addTask { try await actor.run { () throws(InCTRLError) in UInt(pthread_self()) }.result }
            }
            return try await group.reduce(into: Set<UInt>()) { $0.insert($1) }
        }
        #expect(threads.count == 1)
    }
}
