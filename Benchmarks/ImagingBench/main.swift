// imaging-bench: times decode + pre-processing of image files with the Imaging module, for
// comparison with tools/bench_pillow_preprocess.py (which times Pillow + torchvision on the
// same files and can run this program itself to print both side by side).
//
//   swift build -c release --product imaging-bench
//   .build/release/imaging-bench [--iterations N] [--json] FILE...
//   .build/release/imaging-bench --hostile FILE...   (time and peak memory of refusing a file)

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Imaging

struct Timing {
    var decode: [Double] = []
    var preprocess: [Double] = []
    var total: [Double] = []
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e3 + Double(duration.components.attoseconds) * 1e-15
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
}

func readFile(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count <= 0 { break }
        bytes += chunk[0..<count]
    }
    return bytes
}

/// Peak resident set size of this process so far, in KiB.
func peakResidentKiB() -> Int {
    var usage = rusage()
    // RUSAGE_SELF is 0 on Linux and Darwin; Glibc imports it as an enum case.
    getrusage(0, &usage)
    return Int(usage.ru_maxrss)
}

func measure(_ bytes: [UInt8], iterations: Int) throws -> Timing {
    let clock = ContinuousClock()
    let preprocessor = Preprocessor.inctrl
    var timing = Timing()
    var checksum: Float = 0
    for iteration in 0..<(iterations + 3) {
        let start = clock.now
        let image = try ImageDecoder.decode(bytes)
        let decoded = clock.now
        let tensor = preprocessor.tensor(image)
        let end = clock.now
        checksum += tensor[tensor.count / 2]
        // The first runs warm caches and the allocator, as the Python side's do.
        if iteration >= 3 {
            timing.decode.append(milliseconds(decoded - start))
            timing.preprocess.append(milliseconds(end - decoded))
            timing.total.append(milliseconds(end - start))
        }
    }
    if checksum.isNaN { print("unexpected NaN") }
    return timing
}

var arguments = Array(CommandLine.arguments.dropFirst())
var iterations = 200
var json = false
var hostile = false
var files: [String] = []
while let argument = arguments.first {
    arguments.removeFirst()
    switch argument {
    case "--iterations":
        iterations = Int(arguments.first ?? "") ?? iterations
        if !arguments.isEmpty { arguments.removeFirst() }
    case "--json": json = true
    case "--hostile": hostile = true
    default: files.append(argument)
    }
}
if files.isEmpty {
    print("usage: imaging-bench [--iterations N] [--json] [--hostile] FILE...")
    exit(2)
}

for path in files {
    guard let bytes = readFile(path) else {
        print("\(path): cannot read")
        exit(1)
    }
    if hostile {
        let before = peakResidentKiB()
        let clock = ContinuousClock()
        let start = clock.now
        let outcome: String
        do {
            let image = try ImageDecoder.decode(bytes)
            outcome = "decoded \(image.width)×\(image.height)"
        } catch {
            outcome = "refused: \(error)"
        }
        let elapsed = milliseconds(clock.now - start)
        let growth = peakResidentKiB() - before
        print("\(path): \(bytes.count) bytes, \(String(format: elapsed)) ms, peak RSS +\(growth) KiB, \(outcome)")
        continue
    }
    do {
        let timing = try measure(bytes, iterations: iterations)
        if json {
            print("{\"file\": \"\(path)\", \"iterations\": \(iterations), \"decode_ms\": \(median(timing.decode)), \"preprocess_ms\": \(median(timing.preprocess)), \"total_ms\": \(median(timing.total)), \"total_min_ms\": \(timing.total.min() ?? .nan)}")
        } else {
            print("\(path): decode \(String(format: median(timing.decode))) ms + pre-process \(String(format: median(timing.preprocess))) ms = \(String(format: median(timing.total))) ms median (min \(String(format: timing.total.min() ?? .nan)) ms, \(iterations) runs)")
        }
    } catch {
        print("\(path): \(error)")
        exit(1)
    }
}

extension String {
    /// Three decimals, without Foundation.
    init(format value: Double) {
        guard value.isFinite else { self = "\(value)"; return }
        let scaled = (value * 1000).rounded()
        let whole = Int(scaled / 1000)
        let fraction = Int(abs(scaled).truncatingRemainder(dividingBy: 1000))
        let padded = String(fraction)
        self = "\(whole).\(String(repeating: "0", count: 3 - padded.count))\(padded)"
    }
}
