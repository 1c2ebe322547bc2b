import ArgumentParser
import CLIP
import Foundation
import Tensor

/// `inctrl bench`: times the fp32 vision forward of one image (DESIGN.md §4.2, §5).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the vision forward of one 240 px image: latency, throughput and peak memory."
    )

    @Option(help: "Model bundle directory.")
    var model: String

    @Option(help: "Timed forward passes.")
    var iterations: Int = 20

    @Option(help: "Untimed passes first (primitive creation, caches, page faults).")
    var warmup: Int = 3

    @Flag(help: "List the oneDNN kernels the forward pass uses.")
    var showKernels = false

    func validate() throws {
        guard iterations > 0 else { throw ValidationError("--iterations must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must not be negative") }
    }

    func run() throws {
        let bundle = try ModelBundle.open(URL(fileURLWithPath: model), requireVocabulary: false)
        let engine = try ComputeEngine()
        let loadStart = ContinuousClock.now
        let clip = try CLIPModel(bundle: bundle, engine: engine)
        let loadSeconds = (ContinuousClock.now - loadStart).seconds
        let vision = clip.vision

        // A fixed, image-like input: the timing does not depend on the values, only the shape.
        var generator = SeededGenerator(seed: 7)
        let image = try Tensor(shape: vision.imageShape) { (buffer) throws(TensorError) in
            generator.fillNormal(buffer, std: 1)
        }
        for _ in 0..<warmup { _ = try vision.encode(image, tapLayers: bundle.config.tapLayers) }
        var seconds: [Double] = []
        for _ in 0..<iterations {
            let start = ContinuousClock.now
            _ = try vision.encode(image, tapLayers: bundle.config.tapLayers)
            seconds.append((ContinuousClock.now - start).seconds)
        }
        seconds.sort()

        let median = Self.percentile(seconds, 0.5)
        print("model: \(bundle.config.name)\(bundle.config.demo ? " (demo weights)" : ""), precision fp32")
        print("vision forward, one \(vision.config.imageSize) px image, \(iterations) iterations after \(warmup) warm-up:")
        print(String(format: "  min %.4f s, median %.4f s, p95 %.4f s", seconds[0], median, Self.percentile(seconds, 0.95)))
        print(String(format: "  %.2f images/s (1 / median)", 1 / median))
        print(String(format: "  model load %.2f s, peak RSS %.0f MiB", loadSeconds, Double(Self.peakResidentKiB() ?? 0) / 1024))
        if showKernels {
            print("oneDNN kernels:")
            engine.preparedKernels.forEach { print("  \($0)") }
        }
        print(String(format: "median_s=%.5f", median))
    }

    /// The `fraction` quantile of sorted `values` (nearest rank).
    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    /// `VmHWM` from `/proc/self/status`: the process's peak resident set, in KiB.
    static func peakResidentKiB() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}
