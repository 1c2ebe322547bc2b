import Dispatch
import Foundation

/// What a finished command left.
struct CommandResult: Sendable {
    var status: Int32
    var output: String
    var errorOutput: String

    var succeeded: Bool { status == 0 }
}

/// A command-line program run by the tests (`openssl`, `curl`, `python3`) as another client
/// would be. Waits run on a dispatch queue, off Swift's cooperative pool, so the server's
/// handler tasks are never starved by a test waiting for a child.
final class ExternalCommand: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let errors = Pipe()
    private var pendingOutput = Data()
    private let queue = DispatchQueue(label: "test.external-command")

    /// Starts `arguments[0]` (looked up on PATH) with the rest as its arguments.
    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        merged.merge(environment) { _, new in new }
        process.environment = merged
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
    }

    /// Runs a command to its end, giving it `stdin`, and kills it after `timeout`.
    static func run(_ arguments: [String], stdin: String = "", environment: [String: String] = [:], timeout: Duration = .seconds(20)) async throws -> CommandResult {
        let command = try ExternalCommand(arguments, environment: environment)
        command.write(stdin)
        command.closeInput()
        return await command.finish(timeout: timeout)
    }

    /// Sends `text` to the command's standard input.
    func write(_ text: String) {
        input.fileHandleForWriting.write(Data(text.utf8))
    }

    /// Closes the command's standard input.
    func closeInput() {
        try? input.fileHandleForWriting.close()
    }

    /// The next line the command writes, without its newline; nil at the end of its output.
    func readLine() async -> String? {
        await withCheckedContinuation { continuation in
            queue.async { [self] in
                while true {
                    if let newline = pendingOutput.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = String(decoding: pendingOutput[..<newline], as: UTF8.self)
                        pendingOutput = Data(pendingOutput[(newline + 1)...])
                        continuation.resume(returning: line)
                        return
                    }
                    let chunk = output.fileHandleForReading.availableData
                    if chunk.isEmpty {
                        continuation.resume(returning: nil)
                        return
                    }
                    pendingOutput.append(chunk)
                }
            }
        }
    }

    /// Waits for the command to exit (killing it after `timeout`) and returns what it wrote
    /// after any lines already read.
    func finish(timeout: Duration = .seconds(20)) async -> CommandResult {
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
            if process.isRunning { process.terminate() }
        }
        return await withCheckedContinuation { continuation in
            queue.async { [self] in
                let rest = output.fileHandleForReading.readDataToEndOfFile()
                let errorText = errors.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: CommandResult(
                    status: process.terminationStatus,
                    output: String(decoding: pendingOutput + rest, as: UTF8.self),
                    errorOutput: String(decoding: errorText, as: UTF8.self)
                ))
            }
        }
    }
}
