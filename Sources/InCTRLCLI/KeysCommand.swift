import ArgumentParser
import Foundation
import Service

/// `inctrl keys …`: the API keys the server accepts (`api_keys_file`). Only each key's
/// SHA-256 is stored; `create` prints the key itself once. A running server reads the file
/// again on `SIGHUP`.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list and revoke API keys.",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    /// `inctrl keys create --id NAME --scopes score[,admin] --file KEYS.json`.
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a key, store its SHA-256 in the file and print the key once on standard output.")

        @Option(help: "The key's name in logs (letters, digits, '.', '_', '-').")
        var id: String

        @Option(help: "score (score images, read sets), admin (register, calibrate, set thresholds, delete; includes score), comma-separated.")
        var scopes: String = "score"

        @Option(help: "The keys file (created if missing, written with permissions 0600).")
        var file: String

        func run() throws {
            let parsed = try scopes.split(separator: ",").map { name in
                guard let scope = APIKeyScope(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("unknown scope '\(name)'; use score, admin")
                }
                return scope
            }
            var keys = try APIKeyFile.read(file, missingIsEmpty: true)
            let key = try keys.create(id: id, scopes: parsed)
            try keys.write(to: file)
            print(key)
            printError("stored key '\(id)' (\(parsed.map(\.rawValue).joined(separator: ","))) in \(file); the key above is shown only now. Send it as 'Authorization: Bearer <key>'; a running server reads the file again on SIGHUP.")
        }
    }

    /// `inctrl keys list --file KEYS.json`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the keys' ids, scopes and creation times (never the keys).")

        @Option(help: "The keys file.")
        var file: String

        func run() throws {
            for key in try APIKeyFile.read(file).keys {
                print("\(key.id)\t\(key.scopes.map(\.rawValue).joined(separator: ","))\t\(key.createdAt.formatted(.iso8601))")
            }
        }
    }

    /// `inctrl keys revoke --id NAME --file KEYS.json`.
    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a key; a running server stops accepting it after SIGHUP.")

        @Option(help: "The key's id.")
        var id: String

        @Option(help: "The keys file.")
        var file: String

        func run() throws {
            var keys = try APIKeyFile.read(file)
            try keys.revoke(id: id)
            try keys.write(to: file)
            printError("revoked key '\(id)' in \(file); send SIGHUP to a running server to apply it")
        }
    }
}
