import ArgumentParser
import CLIP
import Foundation
import InCTRL
import Service
import Tensor

/// `inctrl bench`: times the vision forward of one image, or with `--shots` the whole query
/// and the registration of a prompt set, in fp32 or bf16.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the vision forward of one 240 px image, or whole queries with --shots: latency, throughput and peak memory."
    )

    @Option(help: "Model bundle directory.")
    var model: String

    @Option(help: "Timed forward passes.")
    var iterations: Int = 20

    @Option(help: "Untimed passes first (primitive creation, caches, page faults).")
    var warmup: Int = 3

    @Option(help: "fp32 or bf16 (where the CPU multiplies bf16 natively).")
    var precision = WeightPrecision.fp32

    @Flag(help: "List the oneDNN kernels the forward pass uses.")
    var showKernels = false

    @Flag(help: "Also time oneDNN's matmul alone at each linear layer's shape of the forward, and print the forward's fraction of that rate.")
    var matmulRate = false

    @Option(help: "With --matmul-rate: timed executions of each shape, spread evenly over the forward's iterations (at least one after each).")
    var matmulRuns: Int = 100

    @Option(name: .customLong("save-io"), help: "Write the input image and its pooled embedding to this safetensors file (`image`, `embedding`), to check other runtimes against.")
    var saveIO: String?

    @Option(help: "Prompt-set sizes K, comma-separated (e.g. 2,4,8): time whole queries against a K-shot set instead of the vision forward alone.")
    var shots: ShotList?

    @Option(help: "Batch sizes B, comma-separated (e.g. 1,2,4,8): time the stacked vision forward of B images and the matmul rate of the vision blocks' linear layers at B·226 rows, instead of one forward.")
    var batches: ShotList?

    @Option(help: "With --shots: directory of PNG/JPEG images for the prompt sets and queries (default: the ELPV cells among Tests/Fixtures/imaging/inputs).")
    var images: String?

    @Option(help: "With --shots: timed prompt-set registrations per K, each with a new class name.")
    var registrations: Int = 3

    @Option(help: "With --shots: the most shots of a registration in one stacked vision forward, as the service's max_batch (1: one by one).")
    var maxBatch: Int = 8

    func validate() throws {
        guard iterations > 0 else { throw ValidationError("--iterations must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must not be negative") }
        guard registrations > 0 else { throw ValidationError("--registrations must be at least 1") }
        guard maxBatch > 0 else { throw ValidationError("--max-batch must be at least 1") }
        guard matmulRuns > 0 else { throw ValidationError("--matmul-runs must be at least 1") }
        if shots == nil, images != nil { throw ValidationError("--images needs --shots") }
        if shots != nil, batches != nil { throw ValidationError("--shots and --batches time different things; give one") }
        if shots != nil, matmulRate || saveIO != nil {
            throw ValidationError("--matmul-rate and --save-io time the vision forward: leave out --shots")
        }
        guard InCTRLModel.supports(precision) else {
            throw ValidationError("\(InCTRLError.unsupportedPrecision(precision))")
        }
    }

    func run() throws {
        if let shots {
            try runQueries(shots: shots.values)
        } else if let batches {
            try runBatches(batches.values)
        } else {
            try runVision()
        }
    }

    private func runVision() throws {
        let bundle = try ModelBundle.open(URL(fileURLWithPath: model), requireVocabulary: false)
        let engine = try ComputeEngine()
        let loadStart = ContinuousClock.now
        let clip = try CLIPModel(bundle: bundle, engine: engine, precision: precision)
        let loadSeconds = (ContinuousClock.now - loadStart).inSeconds
        let vision = clip.vision

        // A fixed, image-like input: the timing does not depend on the values, only the shape.
        var generator = SeededGenerator(seed: 7)
        let image = try Tensor(shape: vision.imageShape) { (buffer) throws(TensorError) in
            generator.fillNormal(buffer, std: 1)
        }
        // With --matmul-rate, each forward is followed by its share of every shape's matmul
        // runs, so the forward and its yardstick see the same moments of a shared machine.
        let shapes = vision.matmuls.filter { $0.isLinear && $0.rows > 1 }
        let timings = try matmulRate
            ? shapes.map { (shape) throws(TensorError) in
                try LinearTiming(
                    engine: engine, rows: shape.rows, inFeatures: shape.inner, outFeatures: shape.columns,
                    hasBias: shape.hasBias, precision: precision)
            } : []
        let runsPerRound = (matmulRuns + iterations - 1) / iterations
        var seconds: [Double] = []
        var matmulSeconds = [[Double]](repeating: [], count: timings.count)
        for round in 0..<(warmup + iterations) {
            let start = ContinuousClock.now
            _ = try vision.encode(image, tapLayers: bundle.config.tapLayers)
            let forward = (ContinuousClock.now - start).inSeconds
            for (index, timing) in timings.enumerated() {
                for _ in 0..<runsPerRound {
                    let time = try timing.time()
                    if round >= warmup { matmulSeconds[index].append(time) }
                }
            }
            if round >= warmup { seconds.append(forward) }
        }
        seconds.sort()

        let median = Self.percentile(seconds, 0.5)
        let flops = Double(vision.config.forwardFLOPs(embedDim: vision.embedDim))
        print("model: \(bundle.config.name)\(bundle.config.demo ? " (demo weights)" : ""), precision \(precision.rawValue) (\(ComputeEngine.instructionSet))")
        print("vision forward, one \(vision.config.imageSize) px image, \(iterations) iterations after \(warmup) warm-up:")
        print(String(format: "  min %.4f s, median %.4f s, p95 %.4f s", seconds[0], median, Self.percentile(seconds, 0.95)))
        print(String(format: "  %.2f images/s (1 / median)", 1 / median))
        print(String(format: "  %.3f GFLOP of matrix products per forward, %.0f GFLOP/s at the median", flops / 1e9, flops / median / 1e9))
        print(String(format: "  model load %.2f s, peak RSS %.0f MiB", loadSeconds, Double(Self.peakResidentKiB() ?? 0) / 1024))
        if showKernels {
            print("oneDNN kernels:")
            engine.preparedKernels.forEach { print("  \($0)") }
        }
        var keys = [String(format: "forward_flop=%.0f", flops)]
        if matmulRate {
            keys += reportMatmulRate(
                shapes: shapes, seconds: matmulSeconds, vision: vision.config, embedDim: vision.embedDim, forwardMedian: median)
        }
        if let saveIO {
            let features = try vision.encode(image, tapLayers: [])
            var writer = SafeTensorsWriter()
            writer.metadata = ["precision": precision.rawValue, "model": bundle.config.name]
            writer.add("image", shape: image.shape, floats: image.scalars)
            writer.add("embedding", shape: features.pooled.shape, floats: features.pooled.scalars)
            try writer.write(to: URL(fileURLWithPath: saveIO))
            print("wrote the input image and its embedding to \(saveIO)")
        }
        keys.forEach { print($0) }
        print(String(format: "median_s=%.5f", median))
    }

    /// Prints oneDNN's matmul rate at each linear layer's shape (`seconds`: the executions
    /// of each of `shapes`, timed by `LinearTiming` between the forward's iterations) and
    /// the rate over the forward's mix of them: the median time of those shapes, each as
    /// often as one forward runs it, divides their FLOPs. The forward's fraction of that
    /// rate is its whole FLOP count over its median, divided by the rate. The projection of
    /// the class token (one row) and attention's products are left out of the rate.
    private func reportMatmulRate(
        shapes: [VisionMatmul], seconds: [[Double]], vision: VisionConfig, embedDim: Int, forwardMedian: Double
    ) -> [String] {
        print("oneDNN matmul alone at the forward's linear-layer shapes, \(precision.rawValue), no epilogue, "
            + "median of \(seconds.first?.count ?? 0) runs each, between the forward's iterations:")
        var mixSeconds = 0.0
        var mixFLOPs = 0.0
        for (shape, times) in zip(shapes, seconds) {
            let median = Self.percentile(times.sorted(), 0.5)
            let flops = Double(2 * shape.rows * shape.inner * shape.columns)
            mixSeconds += median * Double(shape.count)
            mixFLOPs += flops * Double(shape.count)
            let label = "\(shape.name) \(shape.rows)×\(shape.inner)→\(shape.columns)"
            print("  " + label.padding(toLength: 26, withPad: " ", startingAt: 0)
                + String(format: "%7.3f ms  %5.0f GFLOP/s  (%d per forward)", median * 1e3, flops / median / 1e9, shape.count))
        }
        let rate = mixFLOPs / mixSeconds
        let forwardFLOPs = Double(vision.forwardFLOPs(embedDim: embedDim))
        let fraction = forwardFLOPs / forwardMedian / rate
        print(String(format: "  the forward's mix of these: %.3f GFLOP in %.4f s = %.0f GFLOP/s", mixFLOPs / 1e9, mixSeconds, rate / 1e9))
        print(String(format: "  the forward: %.3f GFLOP in %.4f s (median) = %.0f GFLOP/s, %.2f of that rate",
                     forwardFLOPs / 1e9, forwardMedian, forwardFLOPs / forwardMedian / 1e9, fraction))
        return [String(format: "matmul_gflops=%.1f", rate / 1e9), String(format: "matmul_fraction=%.3f", fraction)]
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

/// The `--shots` list: positive prompt-set sizes, comma-separated.
struct ShotList: ExpressibleByArgument {
    let values: [Int]

    init?(argument: String) {
        let parsed = argument.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parsed.isEmpty, parsed.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        values = parsed.compactMap { $0 }
    }
}

/// min / median / p95 of a set of timings, in seconds.
private struct LatencySummary {
    let min: Double
    let median: Double
    let p95: Double

    init(_ seconds: [Double]) {
        let sorted = seconds.sorted()
        min = sorted[0]
        median = BenchCommand.percentile(sorted, 0.5)
        p95 = BenchCommand.percentile(sorted, 0.95)
    }

    var line: String { String(format: "min %.4f s, median %.4f s, p95 %.4f s", min, median, p95) }
}

extension BenchCommand {
    /// The directory the default images come from, relative to the repository root.
    static let defaultImageDirectory = "Tests/Fixtures/imaging/inputs"

    /// Per K: registers prompt sets from real images under new class names, then times queries
    /// from encoded bytes (the whole query) and from already-decoded tensors.
    fileprivate func runQueries(shots: [Int]) throws {
        let inputs = try loadImages()
        let bundle = try ModelBundle.open(URL(fileURLWithPath: model))
        let loadStart = ContinuousClock.now
        let inctrl = try InCTRLModel(bundle: bundle, precision: precision)
        let loadSeconds = (ContinuousClock.now - loadStart).inSeconds
        let pipeline = ImagePipeline()
        let decoded = try inputs.map { try prepare($0.bytes, path: $0.path, pipeline).tensor }

        print("model: \(bundle.config.name)\(bundle.config.demo ? " (demo weights)" : ""), precision \(precision.rawValue) (\(ComputeEngine.instructionSet)), model load \(String(format: "%.2f", loadSeconds)) s")
        print("images: \(inputs.count) from \(images ?? Self.defaultImageDirectory), used in turn for prompts and queries")
        var keys: [String] = []
        for k in shots {
            // Registration: decode and pre-process K images, K vision forwards (stacked up to
            // --max-batch at a time, as the service runs them), the derived prompt-set
            // features, and the 242-prompt text prior of a class name not seen before.
            var registerSeconds: [Double] = []
            var split: [(prepare: Double, vision: Double, text: Double)] = []
            var promptSet: PromptSetFeatures?
            var prior: TextPrior?
            // Kernels are created once per process, so only the first K needs a warm-up round.
            let warmUpRound = warmup > 0 && k == shots.first
            for round in 0..<(registrations + (warmUpRound ? 1 : 0)) {
                let start = ContinuousClock.now
                let tensors = try (0..<k).map { shot in
                    let input = inputs[(round + shot) % inputs.count]
                    return try prepare(input.bytes, path: input.path, pipeline).tensor
                }
                let prepared = ContinuousClock.now
                promptSet = try inctrl.promptSetFeatures(images: tensors, batchSize: maxBatch)
                let encoded = ContinuousClock.now
                prior = try inctrl.textPrior(className: "bench part k\(k) round \(round)")
                let finished = ContinuousClock.now
                if warmUpRound, round == 0 { continue }
                registerSeconds.append((finished - start).inSeconds)
                split.append(((prepared - start).inSeconds, (encoded - prepared).inSeconds, (finished - encoded).inSeconds))
            }
            guard let promptSet, let prior else { continue }

            for index in 0..<warmup {
                _ = try inctrl.score(image: decoded[index % decoded.count], promptSet: promptSet, textPrior: prior)
            }
            var fromBytes: [Double] = []
            var decodeAndPreprocess: [Double] = []
            for index in 0..<iterations {
                let input = inputs[index % inputs.count]
                let start = ContinuousClock.now
                let prepared = try prepare(input.bytes, path: input.path, pipeline)
                _ = try inctrl.score(image: prepared.tensor, promptSet: promptSet, textPrior: prior)
                fromBytes.append((ContinuousClock.now - start).inSeconds)
                decodeAndPreprocess.append(prepared.decodeSeconds + prepared.preprocessSeconds)
            }
            var fromTensor: [Double] = []
            for index in 0..<iterations {
                let image = decoded[index % decoded.count]
                let start = ContinuousClock.now
                _ = try inctrl.score(image: image, promptSet: promptSet, textPrior: prior)
                fromTensor.append((ContinuousClock.now - start).inSeconds)
            }

            let register = LatencySummary(registerSeconds)
            let medianSplit = split.sorted { $0.prepare + $0.vision + $0.text < $1.prepare + $1.vision + $1.text }[split.count / 2]
            let query = LatencySummary(fromBytes)
            let tensorQuery = LatencySummary(fromTensor)
            print("K = \(k):")
            print("  register, new class name, \(registerSeconds.count) rounds: \(register.line)")
            print(String(format: "    one round: decode + pre-process %.4f s, %d vision forwards + features %.4f s, 242-prompt text prior %.4f s",
                         medianSplit.prepare, k, medianSplit.vision, medianSplit.text))
            print("  query from encoded bytes (decode + pre-process + forward + residual + heads), \(iterations) iterations: \(query.line)")
            print(String(format: "    %.2f images/s (1 / median); decode + pre-process median %.4f s",
                         1 / query.median, LatencySummary(decodeAndPreprocess).median))
            print("  query from a decoded tensor (forward + residual + heads): \(tensorQuery.line)")
            print(String(format: "    %.2f images/s (1 / median)", 1 / tensorQuery.median))
            keys += [
                String(format: "k%d_register_median_s=%.5f", k, register.median),
                String(format: "k%d_query_median_s=%.5f", k, query.median),
                String(format: "k%d_query_p95_s=%.5f", k, query.p95),
                String(format: "k%d_decoded_median_s=%.5f", k, tensorQuery.median),
                String(format: "k%d_decoded_p95_s=%.5f", k, tensorQuery.p95),
            ]
        }
        let peakMiB = Double(Self.peakResidentKiB() ?? 0) / 1024
        print(String(format: "peak RSS %.0f MiB", peakMiB))
        keys.forEach { print($0) }
        print(String(format: "peak_rss_mib=%.0f", peakMiB))
    }

    /// The PNG and JPEG files of `--images`, or the ELPV cells among the repository's fixtures.
    private func loadImages() throws -> [(path: String, bytes: [UInt8])] {
        let directory = images ?? Self.defaultImageDirectory
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw ValidationError("cannot list images in \(directory) (run from the repository root or pass --images DIR): \(error.localizedDescription)")
        }
        let selected = names.filter { name in
            let lowered = name.lowercased()
            let isImage = [".png", ".jpg", ".jpeg"].contains { lowered.hasSuffix($0) }
            return isImage && (images != nil || name.hasPrefix("png_elpv_"))
        }
        guard !selected.isEmpty else { throw ValidationError("no PNG or JPEG images in \(directory)") }
        return try selected.map { name in
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
            return (path, [UInt8](data))
        }
    }

    private func prepare(_ bytes: [UInt8], path: String, _ pipeline: ImagePipeline) throws -> ImagePipeline.Prepared {
        do {
            return try pipeline.prepare(bytes)
        } catch {
            throw ValidationError("\(path): \(error)")
        }
    }
}

extension BenchCommand {
    /// Per batch size B: the matmul rate of the four linear layers of a vision block at
    /// B·tokens rows (weights packed for one image's rows, as the tower packs them), and the
    /// stacked vision forward of B images. Dynamic batching can only gain what the first
    /// predicts: the linear layers are about 90 % of a forward.
    fileprivate func runBatches(_ sizes: [Int]) throws {
        let bundle = try ModelBundle.open(URL(fileURLWithPath: model), requireVocabulary: false)
        let engine = try ComputeEngine()
        let clip = try CLIPModel(bundle: bundle, engine: engine, precision: precision)
        let vision = clip.vision
        let config = vision.config
        let tokens = config.patchCount + 1
        print("model: \(bundle.config.name)\(bundle.config.demo ? " (demo weights)" : ""), precision \(precision.rawValue) (\(ComputeEngine.instructionSet))")

        var generator = SeededGenerator(seed: 7)
        func random(_ count: Int, std: Float) -> [Float] {
            [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                generator.fillNormal(buffer, std: std)
                initialized = count
            }
        }
        // q|k|v, attention output, MLP expand, MLP contract: (in, out, epilogue).
        let shapes: [(Int, Int, LinearEpilogue)] = [
            (config.width, 3 * config.width, .none), (config.width, config.width, .residualAdd),
            (config.width, config.mlpWidth, .gelu), (config.mlpWidth, config.width, .residualAdd),
        ]
        let layers = try shapes.map { (inFeatures, outFeatures, _) in
            try engine.packLinear(
                weight: random(inFeatures * outFeatures, std: 1 / Float(inFeatures).squareRoot()), orientation: .outputMajor,
                inFeatures: inFeatures, outFeatures: outFeatures, bias: random(outFeatures, std: 0.01), typicalRows: tokens,
                precision: precision)
        }
        let largest = (sizes.max() ?? 1) * tokens
        let input = AlignedFloats(random(largest * config.mlpWidth, std: 1))
        let output = AlignedFloats(count: largest * config.mlpWidth)
        let flopsPerRow = shapes.reduce(0.0) { $0 + 2 * Double($1.0) * Double($1.1) }

        let images = try (0..<(sizes.max() ?? 1)).map { _ in
            try Tensor(shape: vision.imageShape) { (buffer) throws(TensorError) in generator.fillNormal(buffer, std: 1) }
        }
        print("per batch size B: the block's 4 linear layers at B·\(tokens) rows, and the stacked vision forward of B images")
        print("(medians of \(iterations) rounds after \(warmup) warm-up; each round times every B in turn, so all see the same drift)")
        func linears(rows: Int) throws {
            for (layer, (inFeatures, outFeatures, epilogue)) in zip(layers, shapes) {
                try engine.linear(
                    input.matrix(rows: rows, columns: inFeatures), layer, into: output.matrix(rows: rows, columns: outFeatures),
                    epilogue: epilogue)
            }
        }
        var matmulSeconds = [[Double]](repeating: [], count: sizes.count)
        var forwardSeconds = [[Double]](repeating: [], count: sizes.count)
        for round in 0..<(warmup + iterations) {
            for (index, size) in sizes.enumerated() {
                var start = ContinuousClock.now
                try linears(rows: size * tokens)
                let matmul = (ContinuousClock.now - start).inSeconds
                start = ContinuousClock.now
                _ = try vision.encode(Array(images[..<size]), tapLayers: bundle.config.tapLayers)
                let forward = (ContinuousClock.now - start).inSeconds
                if round >= warmup {
                    matmulSeconds[index].append(matmul)
                    forwardSeconds[index].append(forward)
                }
            }
        }
        var baseRate: Double?
        var baseForward: Double?
        var keys: [String] = []
        for (index, size) in sizes.enumerated() {
            let rate = flopsPerRow * Double(size * tokens) / Self.percentile(matmulSeconds[index].sorted(), 0.5) / 1e9
            let forward = Self.percentile(forwardSeconds[index].sorted(), 0.5)
            let perImage = forward / Double(size)
            let rateGain = rate / (baseRate ?? rate)
            let forwardGain = (baseForward ?? perImage) / perImage
            if baseRate == nil { (baseRate, baseForward) = (rate, perImage) }
            print(String(format: "  B = %d: linear layers %.1f GFLOP/s (%.2fx B = %d); forward %.4f s, %.4f s per image (%.2fx images/s of B = %d)",
                         size, rate, rateGain, sizes[0], forward, perImage, forwardGain, sizes[0]))
            keys += [
                String(format: "matmul_gflops_b%d=%.2f", size, rate),
                String(format: "matmul_gain_b%d=%.4f", size, rateGain),
                String(format: "forward_s_b%d=%.5f", size, forward),
                String(format: "forward_gain_b%d=%.4f", size, forwardGain),
            ]
        }
        print(String(format: "peak RSS %.0f MiB", Double(Self.peakResidentKiB() ?? 0) / 1024))
        keys.forEach { print($0) }
    }
}
