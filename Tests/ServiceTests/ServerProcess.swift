import Foundation
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A real `inctrl serve` process on an ephemeral loopback port, for tests that crash,
/// restart and damage the service as an operator's machine would.
///
/// The executable is the one `swift build --build-tests` puts beside the test binary; the
/// tests build nothing themselves. The server logs JSON lines to a file next to its data
/// directory, which the tests read to learn its port and what it reported. Every wait is
/// bounded, and a process still running when its `ServerProcess` goes away is killed.
final class ServerProcess: Sendable {
    /// Why a server process could not be used.
    enum Failure: Error, CustomStringConvertible {
        case executableNotFound(searched: [String])
        case commandFailed(command: String, status: Int32, output: String)
        case exitedEarly(status: Int32, log: String)
        case timedOut(waitingFor: String, log: String)
        case notJSON(status: Int, body: String)

        var description: String {
            switch self {
            case let .executableNotFound(searched):
                "inctrl is not beside the test binary (looked in \(searched.joined(separator: ", "))); build it with `swift build --build-tests` before `swift test --skip-build`"
            case let .commandFailed(command, status, output):
                "`\(command)` exited with \(status): \(output)"
            case let .exitedEarly(status, log):
                "the server exited with \(status) before it was ready; its log:\n\(log)"
            case let .timedOut(what, log):
                "timed out waiting for \(what); the server's log:\n\(log)"
            case let .notJSON(status, body):
                "expected a JSON object, got \(status): \(body.prefix(300))"
            }
        }
    }

    /// An HTTP response as the tests read it.
    struct Response {
        let status: Int
        let body: [UInt8]

        /// The body as a JSON object.
        func object() throws -> [String: Any] {
            guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                throw Failure.notJSON(status: status, body: String(decoding: body, as: UTF8.self))
            }
            return object
        }
    }

    /// `inctrl`, found where SwiftPM builds products: the directory of the running test binary.
    static func executable() throws -> URL {
        var directories = [
            Bundle.main.bundleURL,
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
        ]
        // On macOS the tests run inside an .xctest bundle beside the products.
        directories += Bundle.allBundles.filter { $0.bundleURL.pathExtension == "xctest" }.map { $0.bundleURL.deletingLastPathComponent() }
        for directory in directories {
            let candidate = directory.appendingPathComponent("inctrl")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw Failure.executableNotFound(searched: directories.map(\.path))
    }

    /// Runs `inctrl arguments…` to its end; whether it exited normally with status 0, its
    /// status, and everything it printed (standard output and error together).
    static func run(
        _ arguments: [String], environment: [String: String] = [:]
    ) throws -> (succeeded: Bool, status: Int32, output: String) {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let succeeded = process.terminationReason == .exit && process.terminationStatus == 0
        return (succeeded, process.terminationStatus, text)
    }

    /// Runs `inctrl arguments…` to completion (model preparation) and returns its output.
    @discardableResult
    static func runToCompletion(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let (succeeded, status, output) = try run(arguments, environment: environment)
        guard succeeded else {
            throw Failure.commandFailed(command: "inctrl " + arguments.joined(separator: " "), status: status, output: output)
        }
        return output
    }

    let process = Process()
    let logFile: URL
    private let session: URLSession
    /// `http://host:port` once the server has logged where it listens.
    private let address = Mutex<URL?>(nil)
    private var base: URL? { address.withLock { $0 } }
    /// The port the server listens on, once it has logged it.
    var port: Int? { base?.port }

    /// Starts `inctrl serve` over `dataDirectory` with the bundle at `model`; `environment`
    /// adds to (or overrides) the settings the tests always use.
    init(model: URL, dataDirectory: URL, environment: [String: String] = [:]) throws {
        logFile = dataDirectory.deletingLastPathComponent()
            .appendingPathComponent("\(dataDirectory.lastPathComponent)-\(UUID().uuidString.prefix(8)).log")
        guard FileManager.default.createFile(atPath: logFile.path, contents: nil) else {
            throw Failure.commandFailed(command: "create \(logFile.path)", status: -1, output: "")
        }
        let log = try FileHandle(forWritingTo: logFile)
        var settings = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("INCTRL_") || $0.key == "INCTRL_VOCAB" }
        settings.merge([
            "INCTRL_HOST": "127.0.0.1", "INCTRL_PORT": "0", "INCTRL_MODEL": model.path,
            "INCTRL_DATA_DIR": dataDirectory.path, "INCTRL_LOG_FORMAT": "json", "INCTRL_SHUTDOWN_GRACE_S": "5",
            // A crashing test process must not wait on Swift's backtracer.
            "SWIFT_BACKTRACE": "enable=no",
        ]) { $1 }
        settings.merge(environment) { $1 }
        process.executableURL = try Self.executable()
        process.arguments = ["serve"]
        process.environment = settings
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 60
        session = URLSession(configuration: configuration)
        try process.run()
        try log.close()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        session.invalidateAndCancel()
        try? FileManager.default.removeItem(at: logFile)
    }

    /// The log's JSON lines so far (a line being written is left out).
    var logLines: [[String: Any]] {
        let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }

    /// The log lines with this message.
    func logged(_ message: String) -> [[String: Any]] {
        logLines.filter { $0["message"] as? String == message }
    }

    /// The first log line with this message, waiting for it: the server may write a line
    /// just after acting on it (it turns ready, then logs "ready").
    func firstLogged(_ message: String, seconds: Double = 10) async throws -> [String: Any] {
        var found: [String: Any]?
        try await poll("the '\(message)' log line", seconds: seconds) {
            found = logged(message).first
            return found != nil
        }
        return found ?? [:]
    }

    private var logText: String {
        let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        return String(text.suffix(4000))
    }

    /// Polls `condition` every 20 ms until it holds, the process exits, or `seconds` pass.
    private func poll(_ what: String, seconds: Double, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return }
            guard process.isRunning else { throw Failure.exitedEarly(status: process.terminationStatus, log: logText) }
            try await Task.sleep(for: .milliseconds(20))
        }
        // A loaded machine may wake this task only after the deadline: look once more before
        // calling it a timeout, so that a condition that came true while asleep still counts.
        if try await condition() { return }
        throw Failure.timedOut(waitingFor: what, log: logText)
    }

    /// Waits until the server has logged the address it listens on.
    func waitUntilListening(seconds: Double = 30) async throws {
        try await poll("the 'listening' log line", seconds: seconds) {
            guard let line = logged("listening").first, let address = line["address"] as? String else { return false }
            let base = URL(string: "http://\(address)")
            self.address.withLock { $0 = base }
            return base != nil
        }
    }

    /// Waits until `/readyz` answers 200: the model is loaded and the store restored.
    func waitUntilReady(seconds: Double = 120) async throws {
        if base == nil { try await waitUntilListening() }
        try await poll("GET /readyz to answer 200", seconds: seconds) {
            (try? await send("GET", "/readyz"))?.status == 200
        }
    }

    /// One request; throws when the connection fails (as it does when the server dies).
    func send(_ method: String, _ path: String, body: [UInt8] = [], contentType: String? = nil) async throws -> Response {
        guard let base else { throw Failure.timedOut(waitingFor: "the server's address", log: logText) }
        var request = URLRequest(url: URL(string: path, relativeTo: base)!)
        request.httpMethod = method
        if !body.isEmpty { request.httpBody = Data(body) }
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        let (data, response) = try await session.data(for: request)
        return Response(status: (response as! HTTPURLResponse).statusCode, body: [UInt8](data))
    }

    /// Waits for the process to end by itself; returns how it ended.
    func waitForExit(seconds: Double = 30) async throws -> (reason: Process.TerminationReason, status: Int32) {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            guard Date() < deadline else {
                kill(process.processIdentifier, SIGKILL)
                throw Failure.timedOut(waitingFor: "the server to exit", log: logText)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return (process.terminationReason, process.terminationStatus)
    }

    /// Sends `signal` and waits for the process to end.
    func stop(with signal: Int32, seconds: Double = 30) async throws -> (reason: Process.TerminationReason, status: Int32) {
        kill(process.processIdentifier, signal)
        return try await waitForExit(seconds: seconds)
    }
}
