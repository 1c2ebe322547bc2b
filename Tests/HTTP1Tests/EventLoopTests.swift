import Glibc
import Synchronization
import Testing
@testable import HTTP1

/// Records the readiness a loop reports for one descriptor.
private final class EventRecorder: EventLoopIOHandler, @unchecked Sendable {
    private let events = Mutex<[IOEvents]>([])

    func handleIO(_ events: IOEvents) {
        self.events.withLock { $0.append(events) }
    }

    /// Every report so far, in order.
    var reports: [IOEvents] {
        events.withLock { $0 }
    }
}

/// A connected pair of non-blocking Unix stream sockets, closed on deinit unless closed before.
private final class SocketPair: Sendable {
    let watched: Int32
    let peer: Int32
    private let isPeerClosed = Atomic<Bool>(false)

    init() throws {
        var descriptors: [Int32] = [-1, -1]
        let created = socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &descriptors)
        try #require(created == 0)
        watched = descriptors[0]
        peer = descriptors[1]
    }

    deinit {
        Glibc.close(watched)
        if !isPeerClosed.load(ordering: .relaxed) { Glibc.close(peer) }
    }

    func sendFromPeer(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(peer, $0.baseAddress, $0.count, 0) }
    }

    func closePeer() {
        isPeerClosed.store(true, ordering: .relaxed)
        Glibc.close(peer)
    }
}

/// The epoll loop apart from HTTP: its thread, cross-thread work, registrations and timers.
@Suite struct EventLoopTests {
    @Test func workFromAnotherThreadRunsOnTheLoopsThreadAndWakesIt() async throws {
        let loop = try EventLoop()
        try loop.start()
        defer { loop.stop() }
        #expect(!loop.isCurrentThread)
        let ranOnLoop = Mutex<[Bool]>([])
        // The loop is waiting without a timeout: only the inbox's eventfd can wake it.
        try await Task.sleep(for: .milliseconds(50))
        for _ in 0..<3 {
            loop.execute { ranOnLoop.withLock { $0.append(loop.isCurrentThread) } }
        }
        #expect(await eventually { ranOnLoop.withLock { $0.count } == 3 })
        #expect(ranOnLoop.withLock { $0 } == [true, true, true])
    }

    @Test func anEdgeTriggeredRegistrationReportsNewInputAndThePeersShutdown() async throws {
        let loop = try EventLoop()
        try loop.start()
        defer { loop.stop() }
        let pair = try SocketPair()
        let recorder = EventRecorder()
        let registered = Mutex<Bool>(false)
        loop.execute {
            let token = try? loop.register(pair.watched, events: [.readable, .peerClosed, .edgeTriggered], handler: recorder)
            registered.withLock { $0 = token != nil }
        }
        #expect(await eventually { registered.withLock { $0 } })
        #expect(recorder.reports.isEmpty, "nothing to read yet")

        pair.sendFromPeer("one")
        #expect(await eventually { recorder.reports.count == 1 })
        #expect(recorder.reports.last?.contains(.readable) == true)
        // Nobody read "one": edge-triggered, the same readiness is not reported again.
        try await Task.sleep(for: .milliseconds(100))
        #expect(recorder.reports.count == 1)

        pair.closePeer()
        #expect(await eventually { recorder.reports.count == 2 })
        #expect(recorder.reports.last?.contains(.peerClosed) == true)
    }

    @Test func anUnregisteredDescriptorIsNoLongerReported() async throws {
        let loop = try EventLoop()
        try loop.start()
        defer { loop.stop() }
        let pair = try SocketPair()
        let recorder = EventRecorder()
        let done = Mutex<Bool>(false)
        loop.execute {
            guard let token = try? loop.register(pair.watched, events: .readable, handler: recorder) else { return }
            loop.unregister(token, descriptor: pair.watched)
            done.withLock { $0 = true }
        }
        #expect(await eventually { done.withLock { $0 } })
        pair.sendFromPeer("ignored")
        try await Task.sleep(for: .milliseconds(100))
        #expect(recorder.reports.isEmpty)
    }

    @Test func scheduledWorkWaitsForItsDeadline() async throws {
        let loop = try EventLoop()
        try loop.start()
        defer { loop.stop() }
        let ranAt = Mutex<ContinuousClock.Instant?>(nil)
        let start = ContinuousClock.now
        loop.execute {
            loop.schedule(at: start + .milliseconds(150)) { ranAt.withLock { $0 = .now } }
        }
        #expect(await eventually { ranAt.withLock { $0 } != nil })
        let elapsed = start.duration(to: try #require(ranAt.withLock { $0 }))
        #expect(elapsed >= .milliseconds(150))
    }

    @Test func aStoppedLoopRunsNoMoreWork() async throws {
        let loop = try EventLoop()
        try loop.start()
        let stopped = Mutex<Bool>(false)
        loop.execute { stopped.withLock { $0 = true } }
        loop.stop()
        #expect(await eventually { stopped.withLock { $0 } })
        try await Task.sleep(for: .milliseconds(50))
        let ranAfterStop = Mutex<Bool>(false)
        loop.execute { ranAfterStop.withLock { $0 = true } }
        try await Task.sleep(for: .milliseconds(100))
        #expect(!ranAfterStop.withLock { $0 })
    }
}
