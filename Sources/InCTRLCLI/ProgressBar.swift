import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Progress of a long run on standard error: a bar redrawn in place on a terminal, or a
/// line every 50 items (and at the end) when standard error is a file or a pipe.
final class ProgressBar {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var drawn = false
    private let width = 30

    /// Shows `done` of `total` items of `label`.
    func update(label: String, done: Int, total: Int) {
        guard total > 0 else { return }
        if isTerminal {
            let filled = width * done / total
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(done)/\(total)\u{1B}[K".utf8))
            drawn = true
        } else if done % 50 == 0 || done == total {
            printError("\(label): \(done)/\(total) test images")
        }
    }

    /// Ends the bar's line.
    func finish() {
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
        drawn = false
    }
}
