import Foundation
import Tensor

extension ServiceConfiguration {
    /// The configuration `inctrl serve` runs with: the defaults, overridden by the keys of
    /// the JSON file at `file` (when given), overridden in turn by `INCTRL_<KEY>` variables
    /// in `environment`, then checked as a whole.
    ///
    /// The file must be one JSON object with keys from `documentation`; an unknown key, a
    /// value of the wrong type or one out of range is refused. Environment variables are read
    /// with the same rules (an empty variable is a value, and refused where a key needs one);
    /// `INCTRL_*` variables that name no key are left alone, as other tools use the prefix.
    ///
    /// - Parameters:
    ///   - file: The configuration file, or nil to start from the defaults.
    ///   - environment: The process environment (`ProcessInfo.processInfo.environment`), or
    ///     any dictionary in tests.
    ///   - supportedPrecisions: The precisions the model and machine can run; a
    ///     configuration asking for another is refused rather than silently changed.
    /// - Throws: `ConfigurationError` naming the key or file and where the value came from.
    public static func load(
        file: URL?, environment: [String: String], supportedPrecisions: Set<Precision> = [.fp32]
    ) throws(ConfigurationError) -> ServiceConfiguration {
        var configuration = ServiceConfiguration()
        var sources: [String: ConfigurationSource] = [:]
        if let file {
            let members = try readFile(file)
            if let unknown = members.keys.filter({ key in !settings.contains { $0.key == key } }).min() {
                throw .unknownKey(key: unknown, path: file.path, suggestion: closestKey(to: unknown))
            }
            for setting in settings {
                guard let value = members[setting.key] else { continue }
                let source = ConfigurationSource.file(path: file.path)
                try setting.assign(.json(value), to: &configuration, from: source)
                sources[setting.key] = source
            }
        }
        for setting in settings {
            guard let text = environment[setting.environmentVariable] else { continue }
            let source = ConfigurationSource.environment(variable: setting.environmentVariable)
            try setting.assign(.text(text), to: &configuration, from: source)
            sources[setting.key] = source
        }
        try configuration.validate(supportedPrecisions: supportedPrecisions, sources: sources)
        return configuration
    }

    /// The members of the JSON object in the file at `url`.
    static func readFile(_ url: URL) throws(ConfigurationError) -> [String: ConfigurationFileValue] {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .fileNotFound(path: path)
        }
        if isDirectory.boolValue { throw .fileUnreadable(path: path, reason: "it is a directory") }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .fileUnreadable(path: path, reason: error.localizedDescription)
        }
        let document: ConfigurationFileValue
        do {
            document = try ConfigurationJSONReader.parse([UInt8](data))
        } catch {
            switch error {
            case let .syntax(line, column, problem):
                throw .invalidJSON(path: path, reason: "line \(line), column \(column): \(problem)")
            case let .duplicateKey(key):
                throw .duplicateKey(key: key, path: path)
            }
        }
        guard case let .object(members) = document else { throw .notAnObject(path: path) }
        return members
    }

    /// The known key an unknown `key` was most likely meant to be: the same words in another
    /// spelling (`maxBodyBytes`, `MAX-BODY-BYTES`), or a key at most two edits away.
    static func closestKey(to key: String) -> String? {
        func words(_ text: String) -> String { text.lowercased().filter { $0 != "_" && $0 != "-" } }
        if let sameWords = settings.first(where: { words($0.key) == words(key) }) { return sameWords.key }
        let nearest = settings.map { (key: $0.key, distance: editDistance($0.key, key)) }.min { $0.distance < $1.distance }
        return nearest.flatMap { $0.distance <= 2 ? $0.key : nil }
    }

    /// Levenshtein distance between two strings, by characters.
    private static func editDistance(_ first: String, _ second: String) -> Int {
        let second = Array(second)
        var previous = Array(0...second.count)
        for (i, character) in first.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: second.count)
            for (j, other) in second.enumerated() {
                current[j + 1] = min(previous[j] + (character == other ? 0 : 1), previous[j + 1] + 1, current[j] + 1)
            }
            previous = current
        }
        return previous[second.count]
    }
}

extension ConfigurationSetting {
    /// Stores `input` into `configuration`, turning a type mismatch into an error that names
    /// the key and `source`.
    func assign(
        _ input: ConfigurationInput, to configuration: inout ServiceConfiguration, from source: ConfigurationSource
    ) throws(ConfigurationError) {
        do {
            try assign(&configuration, input)
        } catch {
            throw .invalidValue(key: key, source: source, reason: "must be \(accepted), not \(error.shown)")
        }
    }
}
