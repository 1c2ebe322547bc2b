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
    private let isWatchedClosed = Atomic<Bool>(false)

    init() throws {
        var descriptors: [Int32] = [-1, -1]
        let created = socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &descriptors)
        try #require(created == 0)
        watched = descriptors[0]
        peer = descriptors[1]
    }

    deinit {
        if !isWatchedClosed.load(ordering: .relaxed) { Glibc.close(watched) }
        if !isPeerClosed.load(ordering: .relaxed) { Glibc.close(peer) }
    }

    func sendFromPeer(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(peer, $0.baseAddress, $0.count, 0) }
    }

    /// Someone else (the loop) closes `watched`.
    func handOverWatched() {
        isWatchedClosed.store(true, ordering: .relaxed)
    }

    /// Whether the peer sees the end of the stream (`watched` was closed).
    var peerSeesEndOfStream: Bool {
        var byte: UInt8 = 0
        return recv(peer, &byte, 1, 0) == 0
    }

    func closePeer() {
        isPeerClosed.store(true, ordering: .relaxed)
        Glibc.close(peer)
    }
}

/// The event loop apart from HTTP, on both backends: cross-thread work, registrations and
/// timers.
@Suite struct EventLoopTests {
    @Test(arguments: IOBackend.allCases)
    func workFromAnotherThreadRunsOnTheLoopAndWakesIt(backend: IOBackend) async throws {
        let loop = try EventLoop(backend: backend)
        try loop.start()
        defer { loop.stop() }
        #expect(!loop.isOnLoop)
        let ranOnLoop = Mutex<[Bool]>([])
        // The loop is waiting without a timeout: only the inbox's eventfd can wake it.
        try await Task.sleep(for: .milliseconds(50))
        for _ in 0..<3 {
            loop.execute { ranOnLoop.withLock { $0.append(loop.isOnLoop) } }
        }
        #expect(await eventually { ranOnLoop.withLock { $0.count } == 3 })
        #expect(ranOnLoop.withLock { $0 } == [true, true, true])
    }

    @Test func anEdgeTriggeredRegistrationReportsNewInputAndThePeersShutdown() async throws {
        let loop = try EventLoop(backend: .epoll)
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

    @Test(arguments: IOBackend.allCases)
    func anUnregisteredDescriptorIsNoLongerReported(backend: IOBackend) async throws {
        let loop = try EventLoop(backend: backend)
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

    @Test func aDispatchRegistrationReportsWhatItsInterestAsksForAsLongAsItLasts() async throws {
        let loop = try EventLoop(backend: .dispatch)
        try loop.start()
        defer { loop.stop() }
        #expect(loop.followsInterest)
        let pair = try SocketPair()
        let recorder = EventRecorder()
        let token = Mutex<UInt64?>(nil)
        loop.execute {
            token.withLock { $0 = try? loop.register(pair.watched, events: .readable, handler: recorder) }
        }
        #expect(await eventually { token.withLock { $0 } != nil })
        #expect(recorder.reports.isEmpty, "nothing to read yet, and output was not asked for")

        pair.sendFromPeer("one")
        // Nobody reads "one": the read source reports it again and again.
        #expect(await eventually { recorder.reports.count >= 2 })
        #expect(recorder.reports.allSatisfy { $0 == .readable })

        // Asking for output instead: input is no longer reported, output is.
        loop.execute { loop.setInterest(token.withLock { $0 }!, .writable) }
        #expect(await eventually { recorder.reports.last == .writable })
        loop.execute { loop.setInterest(token.withLock { $0 }!, []) }
        try await Task.sleep(for: .milliseconds(50))
        let quietCount = recorder.reports.count
        try await Task.sleep(for: .milliseconds(100))
        #expect(recorder.reports.count == quietCount, "nothing is asked for")

        // Unregistered while suspended (dispatch runs no cancel handler then) and closing: the
        // descriptor is closed once dispatch lets go of it.
        pair.handOverWatched()
        loop.execute { loop.unregister(token.withLock { $0 }!, descriptor: pair.watched, closing: true) }
        #expect(await eventually { pair.peerSeesEndOfStream })
    }

    @Test(arguments: IOBackend.allCases)
    func scheduledWorkWaitsForItsDeadline(backend: IOBackend) async throws {
        let loop = try EventLoop(backend: backend)
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

    @Test(arguments: IOBackend.allCases)
    func aStoppedLoopRunsNoMoreWork(backend: IOBackend) async throws {
        let loop = try EventLoop(backend: backend)
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
