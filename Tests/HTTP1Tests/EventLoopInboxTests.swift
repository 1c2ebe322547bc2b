import Glibc
import Synchronization
import Testing
@testable import HTTP1

/// The cross-thread queue and its eventfd.
@Suite struct EventLoopInboxTests {
    @Test func postsBeforeTheLoopWakesShareOneWakeup() throws {
        let inbox = try EventLoopInbox()
        let order = Mutex<[Int]>([])
        for index in 0..<3 {
            #expect(inbox.post { order.withLock { $0.append(index) } })
        }
        var counter: UInt64 = 0
        #expect(read(inbox.descriptor, &counter, MemoryLayout<UInt64>.size) == MemoryLayout<UInt64>.size)
        #expect(counter == 1, "one eventfd write for three posts")
        for work in inbox.takeAll() { work() }
        #expect(order.withLock { $0 } == [0, 1, 2])
        // Emptied: the next post signals again.
        #expect(inbox.post {})
        #expect(read(inbox.descriptor, &counter, MemoryLayout<UInt64>.size) == MemoryLayout<UInt64>.size)
        #expect(inbox.takeAll().count == 1)
    }

    @Test func aClosedInboxRefusesWork() throws {
        let inbox = try EventLoopInbox()
        inbox.close()
        #expect(!inbox.post {})
    }
}
