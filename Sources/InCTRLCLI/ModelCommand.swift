import ArgumentParser
import CLIP
import Foundation
import InCTRL

/// `inctrl model …`: create and convert model bundles (docs/ARCHITECTURE.md, "The model bundle").
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Create or convert model bundles.",
        subcommands: [ModelConvertCommand.self, ModelDemoCommand.self]
    )
}

/// Architectures a bundle can be written for.
enum ArchitectureSize: String, ExpressibleByArgument, CaseIterable {
    /// ViT-B-16-plus-240 as InCTRL uses it.
    case full
    /// Same grid and vocabulary, narrow widths (fixtures and trials).
    case tiny

    var config: BundleConfig { self == .full ? .vitB16Plus240 : .tiny }
}

/// `inctrl model convert`: a released InCTRL checkpoint → a bundle, natively.
struct ModelConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a released InCTRL checkpoint (checkpoint.pyth) into a model bundle, without Python."
    )

    @Option(help: "The PyTorch checkpoint (zip format; state_dict bare or under 'model_state').")
    var checkpoint: String

    @Option(help: "The CLIP vocabulary bpe_simple_vocab_16e6.txt.gz (default: $INCTRL_VOCAB, else .cache/bpe_simple_vocab_16e6.txt.gz).")
    var vocab: String?

    @Option(help: "Directory to write the bundle into (created if missing).")
    var out: String

    @Option(help: "The checkpoint's architecture: full (the released models) or tiny (test fixtures).")
    var architecture: ArchitectureSize = .full

    @Option(help: "Name reported in responses (default: the architecture's name).")
    var name: String?

    func run() throws {
        var config = architecture.config
        if let name { config.name = name }
        let report: CheckpointConverter.Report
        do {
            report = try CheckpointConverter.convert(
                checkpoint: URL(fileURLWithPath: checkpoint), architecture: config,
                specs: InCTRLArchitecture.bundleTensors(for: config),
                vocabulary: URL(fileURLWithPath: vocab ?? defaultVocabularyPath()), to: URL(fileURLWithPath: out))
        } catch {
            throw ValidationError("\(error)")
        }
        print("wrote bundle \(report.config.name) to \(out): \(report.tensorCount) tensors, source sha256 \(report.config.source.sha256 ?? "-")")
        if !report.ignoredKeys.isEmpty {
            print("ignored \(report.ignoredKeys.count) state_dict entries the model does not use: \(report.ignoredKeys.prefix(8).joined(separator: ", "))\(report.ignoredKeys.count > 8 ? ", …" : "")")
        }
    }
}

/// `inctrl model demo`: a randomly initialised bundle of the true architecture.
struct ModelDemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Write a randomly initialised bundle (scores from it mean nothing; it says so)."
    )

    @Option(help: "Directory to write the bundle into (created if missing).")
    var out: String

    @Option(help: "Seed of the random weights; the same seed gives the same bundle.")
    var seed: UInt64 = 0

    @Option(help: "full: ViT-B-16-plus-240 as InCTRL uses it; tiny: same grid and vocabulary, narrow widths.")
    var size: ArchitectureSize = .full

    @Option(help: "The CLIP vocabulary bpe_simple_vocab_16e6.txt.gz to copy in (default: $INCTRL_VOCAB, else .cache/bpe_simple_vocab_16e6.txt.gz).")
    var vocab: String?

    func run() throws {
        let architecture = size.config
        let vocabulary = URL(fileURLWithPath: vocab ?? defaultVocabularyPath())
        let directory = URL(fileURLWithPath: out)
        do {
            try DemoBundle.write(architecture: architecture, seed: seed, vocabulary: vocabulary, to: directory)
        } catch {
            throw ValidationError("\(error)")
        }
        print("wrote demo bundle \(architecture.name)-demo (seed \(seed)) to \(directory.path); its scores are not meaningful")
    }
}

/// `$INCTRL_VOCAB`, else the location `scripts/fetch-vocab` uses.
func defaultVocabularyPath() -> String {
    ProcessInfo.processInfo.environment["INCTRL_VOCAB"] ?? ".cache/bpe_simple_vocab_16e6.txt.gz"
}
