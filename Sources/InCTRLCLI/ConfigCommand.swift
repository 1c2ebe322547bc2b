import ArgumentParser
import Service

/// `inctrl config …`: the serve configuration's keys, for writing a configuration file or
/// the README's table (both come from the one table of settings, so they cannot drift).
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the serve configuration's defaults or its documentation.",
        subcommands: [Defaults.self, Keys.self]
    )

    /// `inctrl config defaults`: every key at its default, as `Config/inctrl.json` holds it.
    struct Defaults: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a configuration file with every key at its default.")

        func run() {
            print(ServiceConfiguration().fileText, terminator: "")
        }
    }

    /// `inctrl config keys`: the Markdown table of keys, variables, defaults and meanings.
    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every configuration key as a Markdown table.")

        func run() {
            print(ServiceConfiguration.documentationTable, terminator: "")
        }
    }
}
