import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Log lines written to a file descriptor (standard error in the service) by one background
/// thread, so that logging never waits for the descriptor.
///
/// A request's access-log line is logged from its handler, which may be running on an
/// event loop; a synchronous `write(2)` there would stall every connection of that loop
/// whenever the reader of standard error (a terminal, a pipe to a collector) is slow.
/// Instead ``append(_:)`` copies the line into a buffer under a short lock and returns. The
/// thread `inctrl-log` writes the buffer with `write(2)` once it holds ``batchBytes`` or at
/// least every ``flushInterval``, in the order the lines were appended.
///
/// The buffer is bounded (``capacity`` bytes, counting a batch until it is written): a line
/// that does not fit is dropped and counted in ``droppedLineCount`` rather than making its
/// caller wait. ``flush()`` writes everything accepted before it returns; the service calls
/// it when it stops, so a clean exit loses no line. A crash loses the lines still buffered:
/// about the last second's while the reader of the descriptor keeps up.
public final class LogWriter: Sendable {
    /// The default bound on buffered bytes (`log_buffer_bytes`).
    public static let defaultCapacity = 4 << 20
    /// The smallest bound the configuration accepts: one batch.
    public static let minimumCapacity = 64 << 10
    /// How many buffered bytes make the thread write before its interval is up.
    public static let defaultBatchBytes = 64 << 10

    /// The most bytes held at once: lines waiting plus the batch being written.
    public let capacity: Int
    /// Buffered bytes that wake the thread early (at most half of `capacity`, so a small
    /// buffer is written before it fills).
    public let batchBytes: Int
    /// The longest a line waits in the buffer when the thread is not blocked writing.
    public let flushInterval: Duration

    private let shared: Shared

    /// A writer to `fileDescriptor`, which it does not own: the caller keeps it open for the
    /// writer's lifetime (standard error, 2, by default).
    /// - Parameters:
    ///   - capacity: The bound on buffered bytes; lines beyond it are dropped and counted.
    ///   - flushInterval: The longest a line waits before the thread writes it.
    public init(
        fileDescriptor: Int32 = STDERR_FILENO, capacity: Int = LogWriter.defaultCapacity,
        flushInterval: Duration = .seconds(1)
    ) {
        precondition(capacity > 0, "a log buffer needs room for at least one byte")
        self.capacity = capacity
        batchBytes = min(Self.defaultBatchBytes, max(1, capacity / 2))
        self.flushInterval = flushInterval
        shared = Shared(fileDescriptor: fileDescriptor)
        let thread = Thread { [shared, flushInterval] in
            Thread.current.name = "inctrl-log"
            shared.run(interval: flushInterval)
        }
        thread.stackSize = 256 << 10
        thread.start()
    }

    /// Writes what is left, then stops the thread and waits for it, so the descriptor is
    /// not written to after the writer is gone.
    deinit {
        flush()
        shared.stop()
    }

    /// Lines dropped because the buffer was full (or, rarely, because `write(2)` failed),
    /// since the writer started.
    public var droppedLineCount: Int {
        shared.dropped.load(ordering: .relaxed)
    }

    /// Queues `line` and a newline for writing, without waiting for any I/O; the line is
    /// dropped and counted when the buffer cannot hold it.
    public func append(_ line: String) {
        append(line: line.utf8)
    }

    /// Queues the UTF-8 bytes of a line (without its newline), as ``append(_:)`` does.
    public func append(line: some Collection<UInt8>) {
        let size = line.count + 1
        let wake = shared.state.withLock { state -> Bool? in
            guard state.heldBytes + size <= capacity else { return nil }
            let before = state.buffer.count
            state.buffer.append(contentsOf: line)
            state.buffer.append(UInt8(ascii: "\n"))
            state.heldBytes += size
            return before < batchBytes && state.buffer.count >= batchBytes
        }
        switch wake {
        case nil: shared.dropped.add(1, ordering: .relaxed)
        case true?: shared.wake.signal()
        case false?: break
        }
    }

    /// Writes every line appended before this call, in the calling thread, and returns once
    /// they are written (or failed). For shutdown and fatal errors: it waits for the
    /// descriptor like a synchronous write would.
    public func flush() {
        shared.drain()
    }

    /// The state the thread and the writer's callers share; the thread keeps it alive.
    private final class Shared: Sendable {
        struct State {
            /// Lines appended and not yet taken by a write, newline-terminated.
            var buffer: [UInt8] = []
            /// `buffer` plus the batch being written: what counts against the bound.
            var heldBytes = 0
            /// An empty array with the last batch's capacity, so steady logging does not
            /// allocate a new buffer for every batch.
            var spare: [UInt8] = []
            var stopping = false
        }

        let fileDescriptor: Int32
        let state = Mutex(State())
        let dropped = Atomic<Int>(0)
        /// Signalled when the buffer reaches a batch, and to stop.
        let wake = DispatchSemaphore(value: 0)
        /// Signalled by the thread as it ends.
        let stopped = DispatchSemaphore(value: 0)
        /// Held while a batch is taken and written, so batches reach the descriptor in the
        /// order they were taken, whichever thread writes them.
        let writing = Mutex(())

        init(fileDescriptor: Int32) {
            self.fileDescriptor = fileDescriptor
        }

        /// The thread's loop: drain whenever woken or when `interval` has passed.
        func run(interval: Duration) {
            let (seconds, attoseconds) = min(interval, .seconds(3600)).components
            let nanoseconds = max(1, Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
            while true {
                _ = wake.wait(timeout: .now() + .nanoseconds(nanoseconds))
                drain()
                if state.withLock({ $0.stopping }) { break }
            }
            stopped.signal()
        }

        /// Asks the thread to end and waits until it has.
        func stop() {
            state.withLock { $0.stopping = true }
            wake.signal()
            stopped.wait()
        }

        /// Writes everything buffered now.
        func drain() {
            writing.withLock { _ in
                var batch = state.withLock { state -> [UInt8] in
                    var batch = state.spare
                    state.spare = []
                    swap(&batch, &state.buffer)
                    return batch
                }
                guard !batch.isEmpty else { return }
                let unwritten = Self.writeAll(batch, to: fileDescriptor)
                if unwritten > 0 {
                    let lost = batch[(batch.count - unwritten)...].reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
                    dropped.add(lost, ordering: .relaxed)
                }
                let written = batch.count
                batch.removeAll(keepingCapacity: true)
                state.withLock { state in
                    state.heldBytes -= written
                    if state.spare.capacity < batch.capacity { state.spare = batch }
                }
            }
        }

        /// Writes `bytes` to `descriptor` in as many `write(2)` calls as it takes, retrying
        /// after signals and waiting for room when the descriptor is non-blocking.
        /// - Returns: How many bytes at the end could not be written (0 on success).
        static func writeAll(_ bytes: [UInt8], to descriptor: Int32) -> Int {
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let result = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                    if result > 0 {
                        offset += result
                    } else if result < 0, errno == EINTR {
                        continue
                    } else if result < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                        var ready = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                        _ = poll(&ready, 1, 1000)
                    } else {
                        break
                    }
                }
                return buffer.count - offset
            }
        }
    }
}
