import ArgumentParser
import Tensor

/// `inctrl`: the command-line entry point (the README's "Command line").
@main
struct Inctrl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inctrl",
        abstract: "Few-shot anomaly detection with InCTRL: serve, score, evaluate, benchmark.",
        subcommands: [ServeCommand.self, ScoreCommand.self, EvalCommand.self, BenchCommand.self, ModelCommand.self, ConfigCommand.self, KeysCommand.self]
    )
}

/// `--precision fp32|bf16`: ArgumentParser checks the name and lists the choices.
extension WeightPrecision: ExpressibleByArgument {}
