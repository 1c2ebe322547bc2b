import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Testing
@testable import Service

/// The log writer on real file descriptors (temporary files and pipes in place of standard
/// error): order, completeness at flush, the interval, and dropping instead of waiting.
@Suite struct LogWriterTests {
    /// A temporary file open for writing; its descriptor stands in for standard error.
    final class LogFile {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("log-writer-\(UUID().uuidString).log")
        let descriptor: Int32

        init() throws {
            descriptor = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            try #require(descriptor >= 0)
        }

        deinit {
            close(descriptor)
            try? FileManager.default.removeItem(at: url)
        }

        var text: String { (try? String(contentsOf: url, encoding: .utf8)) ?? "" }

        /// The complete lines written so far.
        var lines: [String] {
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            lines.removeLast()  // after the last newline: empty, or a line being written
            return lines
        }
    }

    /// Both ends of a pipe.
    struct Pipe {
        let read: Int32
        let write: Int32

        init() throws {
            var ends: [Int32] = [0, 0]
            try #require(pipe(&ends) == 0)
            read = ends[0]
            write = ends[1]
        }

        /// Fills the pipe with `filler` lines (each written whole, as they are shorter than
        /// PIPE_BUF) until it takes no more, leaving the write end blocking again.
        func fill(with filler: String) -> Int {
            let flags = fcntl(write, F_GETFL)
            _ = fcntl(write, F_SETFL, flags | O_NONBLOCK)
            defer { _ = fcntl(write, F_SETFL, flags) }
            let bytes = Array((filler + "\n").utf8)
            var count = 0
            while Glibc.write(write, bytes, bytes.count) == bytes.count { count += 1 }
            return count
        }

        /// Sets the write end non-blocking, as a parent process may leave standard error.
        func makeWriteEndNonBlocking() {
            _ = fcntl(write, F_SETFL, fcntl(write, F_GETFL) | O_NONBLOCK)
        }

        /// Reads the read end on a thread of its own until end of file; `pause` between
        /// reads makes a slow reader. Wait on the result for the bytes.
        func readToEnd(pauseMicroseconds: UInt32 = 0) -> ReadResult {
            let result = ReadResult()
            let descriptor = read
            Thread {
                var bytes: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = Glibc.read(descriptor, &chunk, chunk.count)
                    if count < 0, errno == EINTR { continue }
                    guard count > 0 else { break }
                    bytes += chunk[..<count]
                    if pauseMicroseconds > 0 { usleep(pauseMicroseconds) }
                }
                result.finish(bytes)
            }.start()
            return result
        }
    }

    /// The bytes a reader thread read, once it reached end of file.
    final class ReadResult: @unchecked Sendable {
        private var bytes: [UInt8] = []
        private let done = DispatchSemaphore(value: 0)

        func finish(_ bytes: [UInt8]) {
            self.bytes = bytes
            done.signal()
        }

        /// The lines read, or nil if end of file did not come within `seconds`.
        func lines(within seconds: Double) -> [String]? {
            guard done.wait(timeout: .now() + seconds) == .success else { return nil }
            return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        }
    }

    @Test func linesArriveInOrderAndCompleteAfterFlush() throws {
        let file = try LogFile()
        let writer = LogWriter(fileDescriptor: file.descriptor)
        let expected = (0..<5000).map { "line \($0) " + String(repeating: "é", count: $0 % 97) }
        for line in expected { writer.append(line) }
        writer.flush()
        #expect(file.lines == expected)
        #expect(file.text.hasSuffix("\n"))
        #expect(writer.droppedLineCount == 0)
    }

    @Test func nothingIsLostFromConcurrentTasksAtFlush() async throws {
        let file = try LogFile()
        let writer = LogWriter(fileDescriptor: file.descriptor, capacity: 16 << 20)
        let tasks = 4
        let perTask = 25_000
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    for index in 0..<perTask { writer.append("task=\(task) index=\(index) padding=\(String(repeating: "x", count: index % 40))") }
                }
            }
        }
        writer.flush()
        let lines = file.lines
        #expect(lines.count == tasks * perTask)
        var next = [Int](repeating: 0, count: tasks)
        var intact = true
        for line in lines {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let task = Int(fields[0].dropFirst(5)), (0..<tasks).contains(task),
                let index = Int(fields[1].dropFirst(6)), index == next[task],
                fields[2] == "padding=" + String(repeating: "x", count: index % 40)
            else {
                intact = false
                break
            }
            next[task] += 1
        }
        #expect(intact, "every line whole, and each task's lines in the order it appended them")
        #expect(next == [Int](repeating: perTask, count: tasks))
        #expect(writer.droppedLineCount == 0)
    }

    @Test func appendDropsAndCountsRatherThanWaitingForAFullPipe() throws {
        let pipe = try Pipe()
        let fillers = pipe.fill(with: "filler")
        try #require(fillers > 0)
        var writer: LogWriter? = LogWriter(fileDescriptor: pipe.write, capacity: 4096, flushInterval: .milliseconds(10))
        let lines = (0..<10_000).map { "line \($0) " + String(repeating: "y", count: 80) }
        // The appends run on a thread of their own, so that a writer that waited for the
        // pipe would fail this test rather than hang it.
        let appended = DispatchSemaphore(value: 0)
        Thread { [writer] in
            for line in lines { writer!.append(line) }
            appended.signal()
        }.start()
        let returned = appended.wait(timeout: .now() + 10) == .success
        #expect(returned, "append waited for a pipe nobody reads")
        let dropped = writer!.droppedLineCount
        let accepted = lines.count - dropped
        #expect(accepted >= 1 && accepted * (lines[0].utf8.count + 1) <= 4096)

        let reader = pipe.readToEnd()
        writer!.flush()
        writer = nil
        close(pipe.write)
        let read = try #require(reader.lines(within: 10))
        #expect(read.prefix(fillers) == ArraySlice(repeating: "filler", count: fillers))
        #expect(Array(read.dropFirst(fillers)) == Array(lines.prefix(accepted)), "the lines kept are the first ones, in order")
        close(pipe.read)
    }

    @Test func linesAreWrittenWithinAboutASecondWithoutAFlush() async throws {
        let file = try LogFile()
        let writer = LogWriter(fileDescriptor: file.descriptor)
        writer.append("first")
        writer.append("second")
        let deadline = ContinuousClock.now + .seconds(3)
        while file.lines != ["first", "second"], ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(file.lines == ["first", "second"])
    }

    @Test func partialWritesToANonBlockingSlowReaderLoseNothing() throws {
        let pipe = try Pipe()
        pipe.makeWriteEndNonBlocking()
        let reader = pipe.readToEnd(pauseMicroseconds: 200)
        var writer: LogWriter? = LogWriter(fileDescriptor: pipe.write, capacity: 8 << 20)
        let lines = (0..<20_000).map { "slow \($0) " + String(repeating: "z", count: $0 % 200) }
        for line in lines { writer!.append(line) }
        writer!.flush()
        #expect(writer!.droppedLineCount == 0)
        writer = nil
        close(pipe.write)
        #expect(try #require(reader.lines(within: 30)) == lines)
        close(pipe.read)
    }

    @Test func linesAWriteCannotTakeAreCountedAsDropped() throws {
        let readOnly = open("/dev/null", O_RDONLY | O_CLOEXEC)
        try #require(readOnly >= 0)
        defer { close(readOnly) }
        let writer = LogWriter(fileDescriptor: readOnly)
        for index in 0..<3 { writer.append("refused \(index)") }
        writer.flush()
        #expect(writer.droppedLineCount == 3)
    }

    @Test func theHandlerWritesThroughTheWriter() throws {
        let file = try LogFile()
        let writer = LogWriter(fileDescriptor: file.descriptor)
        var logger = Logger(label: "test") { label in
            ServiceLogHandler(label: label, format: .json, level: .info, writer: writer)
        }
        logger[metadataKey: "request_id"] = "r1"
        logger.info("access", metadata: ["status": "200"])
        logger.debug("not written")
        writer.flush()
        let lines = file.lines
        try #require(lines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(object["message"] as? String == "access" && object["request_id"] as? String == "r1")
    }

    @Test func metricsReportTheWritersDroppedLines() async throws {
        let file = try LogFile()
        let writer = LogWriter(fileDescriptor: file.descriptor, capacity: 100)
        for _ in 0..<3 { writer.append(String(repeating: "w", count: 200)) }
        writer.append("fits")
        #expect(writer.droppedLineCount == 3)

        var configuration = ServiceConfiguration()
        configuration.dataDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("log-writer-service-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: configuration.dataDirectory) }
        let service = try InCTRLService(
            configuration: configuration, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }, logWriter: writer)
        let response = await service.metricsResponse()
        let exposition = try PrometheusExposition(parsing: String(decoding: response.body, as: UTF8.self))
        #expect(exposition.types["inctrl_log_lines_dropped_total"] == "counter")
        #expect(exposition.samples.first { $0.name == "inctrl_log_lines_dropped_total" }?.value == 3)
    }
}
