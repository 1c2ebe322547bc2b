import ArgumentParser
import CLIP
import Foundation
import InCTRL

/// `inctrl model …`: create and convert model bundles (DESIGN.md §4.1).
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Create or convert model bundles.",
        subcommands: [ModelDemoCommand.self]
    )
}

/// `inctrl model demo`: a randomly initialised bundle of the true architecture.
struct ModelDemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Write a randomly initialised bundle (scores from it mean nothing; it says so)."
    )

    enum Size: String, ExpressibleByArgument, CaseIterable {
        case full, tiny
    }

    @Option(help: "Directory to write the bundle into (created if missing).")
    var out: String

    @Option(help: "Seed of the random weights; the same seed gives the same bundle.")
    var seed: UInt64 = 0

    @Option(help: "full: ViT-B-16-plus-240 as InCTRL uses it; tiny: same grid and vocabulary, narrow widths.")
    var size: Size = .full

    @Option(help: "The CLIP vocabulary bpe_simple_vocab_16e6.txt.gz to copy in (default: $INCTRL_VOCAB, else .cache/bpe_simple_vocab_16e6.txt.gz).")
    var vocab: String?

    func run() throws {
        let architecture: BundleConfig = size == .full ? .vitB16Plus240 : .tiny
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
