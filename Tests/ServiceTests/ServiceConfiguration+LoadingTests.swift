import Foundation
import HTTP1
import Logging
import Testing
@testable import Service

/// Loading the configuration: defaults, file, environment, and an error naming key and source
/// for every way a value can be wrong.
@Suite struct ServiceConfigurationLoadingTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let defaultFile = repositoryRoot.appendingPathComponent("Config/inctrl.json")

    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("service-config-\(UUID().uuidString)")

    /// Writes `text` to a fresh file and returns its URL.
    func file(_ text: String) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("\(UUID().uuidString).json")
        try Data(text.utf8).write(to: url)
        return url
    }

    /// The error `load` throws, or a recorded issue when it does not throw.
    func loadError(
        file: URL? = nil, environment: [String: String] = [:], supportedPrecisions: Set<ServiceConfiguration.Precision> = [.fp32]
    ) -> ConfigurationError? {
        #expect(throws: ConfigurationError.self) {
            try ServiceConfiguration.load(file: file, environment: environment, supportedPrecisions: supportedPrecisions)
        }
    }

    @Test func nothingGivenMeansDefaults() throws {
        let configuration = try ServiceConfiguration.load(file: nil, environment: [:])
        #expect(configuration == ServiceConfiguration())
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.precision == .fp32)
        #expect(configuration.headerTimeout == .seconds(10))
    }

    @Test func shippedConfigFileHoldsEveryDefault() throws {
        let configuration = try ServiceConfiguration.load(file: Self.defaultFile, environment: [:])
        #expect(configuration == ServiceConfiguration())
        let text = try String(contentsOf: Self.defaultFile, encoding: .utf8)
        #expect(text == ServiceConfiguration().fileText)
    }

    @Test func fileTextReadsBackToTheSameConfiguration() throws {
        var configuration = ServiceConfiguration()
        configuration.host = "::"
        configuration.apiKeysFile = "/etc/inctrl/keys.json"
        configuration.metricsPublic = true
        configuration.model = "bundles/\"quoted\" name"
        configuration.bodyTimeout = .milliseconds(2500)
        configuration.shutdownGrace = .zero
        configuration.logLevel = .trace
        configuration.logFormat = .json
        let url = try file(configuration.fileText)
        #expect(try ServiceConfiguration.load(file: url, environment: [:]) == configuration)
    }

    /// A value other than the default for every key, as an environment variable spells it.
    static let overrides: [String: String] = [
        "host": "0.0.0.0", "port": "9090", "max_inflight_body_bytes": "4194304", "model": "/srv/inctrl/bundle", "data_dir": "/var/lib/inctrl",
        "store": "postgres://inctrl:secret@db:5432/inctrl?sslmode=require", "store_pool_size": "8",
        "precision": "bf16", "max_body_bytes": "1048576", "max_header_bytes": "16384",
        "max_connections": "64", "header_timeout_s": "2.5", "body_timeout_s": "120",
        "idle_timeout_s": "5", "write_timeout_s": "7.25", "shutdown_grace_s": "0", "io_backend": "dispatch", "queue_size": "4",
        "max_batch": "2", "batch_window_ms": "2.5", "refusal_delay_ms": "125",
        "retry_after_s": "3", "max_images_per_set": "8", "max_image_pixels": "1000000",
        "max_image_bytes": "524288", "max_prompt_sets": "10", "max_calibration_images": "5", "feature_cache_bytes": "1048576", "max_batch_images": "3",
        "threshold_margin": "2.5", "api_keys_file": "/etc/inctrl/keys.json",
        "tls_cert_file": "/etc/inctrl/server.crt", "tls_key_file": "/etc/inctrl/server.key", "tls_handshake_timeout_s": "3", "metrics_public": "true",
        "allow_unauthenticated": "true", "rate_limit_per_s": "12.5", "rate_limit_burst": "40",
        "log_format": "json", "log_level": "debug", "log_buffer_bytes": "131072",
    ]

    @Test func everyKeyCanBeSetByItsEnvironmentVariable() throws {
        let keys = ServiceConfiguration.documentation.map(\.key)
        #expect(Set(keys) == Set(Self.overrides.keys), "every key needs an override in this test")
        var environment: [String: String] = [:]
        for (key, value) in Self.overrides { environment["INCTRL_" + key.uppercased()] = value }
        let configuration = try ServiceConfiguration.load(
            file: nil, environment: environment, supportedPrecisions: [.fp32, .bf16])
        for setting in ServiceConfiguration.settings {
            #expect(setting.value(configuration).plain == Self.overrides[setting.key], "\(setting.key)")
            #expect(setting.value(configuration) != setting.value(ServiceConfiguration()), "\(setting.key) kept its default")
        }
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.port == 9090)
        #expect(configuration.dataDirectory == "/var/lib/inctrl")
        #expect(configuration.precision == .bf16)
        #expect(configuration.headerTimeout == .milliseconds(2500))
        #expect(configuration.writeTimeout == .milliseconds(7250))
        #expect(configuration.shutdownGrace == .zero)
        #expect(configuration.ioBackend == .dispatch)
        #expect(configuration.httpServer.ioBackend == .dispatch)
        #expect(configuration.logFormat == .json)
        #expect(configuration.logLevel == .debug)
    }

    @Test func environmentOverridesTheFile() throws {
        let url = try file(#"{"port": 9000, "model": "from-file", "log_level": "warning"}"#)
        let configuration = try ServiceConfiguration.load(
            file: url, environment: ["INCTRL_PORT": "9100", "INCTRL_LOG_LEVEL": "error"])
        #expect(configuration.port == 9100)
        #expect(configuration.model == "from-file")
        #expect(configuration.logLevel == .error)
        #expect(configuration.host == "127.0.0.1")
    }

    @Test func unrelatedPrefixedVariablesAreLeftAlone() throws {
        let configuration = try ServiceConfiguration.load(file: nil, environment: [
            "INCTRL_VOCAB": "cache/vocab.txt.gz", "INCTRL_CHECKPOINT": "checkpoint.pyth", "PORT": "1", "inctrl_port": "2",
        ])
        #expect(configuration == ServiceConfiguration())
    }

    @Test(arguments: [
        ("INCTRL_PORT", "http", "port", "must be an integer from 0 to 65535, not \"http\""),
        ("INCTRL_PORT", "70000", "port", "must be an integer from 0 to 65535, not 70000"),
        ("INCTRL_PORT", "-1", "port", "must be an integer from 0 to 65535, not -1"),
        ("INCTRL_PORT", " 8080", "port", "must be an integer from 0 to 65535, not \" 8080\""),
        ("INCTRL_PORT", "8080.0", "port", "must be an integer from 0 to 65535, not \"8080.0\""),
        ("INCTRL_PORT", "+8080", "port", "must be an integer from 0 to 65535, not \"+8080\""),
        ("INCTRL_PORT", "", "port", "must be an integer from 0 to 65535, not \"\""),
        ("INCTRL_PORT", "99999999999999999999999", "port", "must be an integer from 0 to 65535, not \"99999999999999999999999\""),
        ("INCTRL_MAX_BODY_BYTES", "0", "max_body_bytes", "must be an integer of at least 1, not 0"),
        ("INCTRL_MAX_BODY_BYTES", "32MiB", "max_body_bytes", "must be an integer of at least 1, not \"32MiB\""),
        ("INCTRL_MAX_HEADER_BYTES", "100", "max_header_bytes", "must be an integer from 1024 to 1048576, not 100"),
        ("INCTRL_QUEUE_SIZE", "0", "queue_size", "must be an integer of at least 1, not 0"),
        ("INCTRL_MAX_BATCH", "0", "max_batch", "must be an integer from 1 to 64, not 0"),
        ("INCTRL_MAX_BATCH", "65", "max_batch", "must be an integer from 1 to 64, not 65"),
        ("INCTRL_BATCH_WINDOW_MS", "-1", "batch_window_ms", "must be a number from 0 to 1000, not -1"),
        ("INCTRL_BATCH_WINDOW_MS", "1001", "batch_window_ms", "must be a number from 0 to 1000, not 1001"),
        ("INCTRL_REFUSAL_DELAY_MS", "10001", "refusal_delay_ms", "must be a number from 0 to 10000, not 10001"),
        ("INCTRL_RETRY_AFTER_S", "3601", "retry_after_s", "must be an integer from 0 to 3600, not 3601"),
        ("INCTRL_HEADER_TIMEOUT_S", "0", "header_timeout_s", "must be a number of seconds greater than 0 and at most 86400, not 0"),
        ("INCTRL_HEADER_TIMEOUT_S", "-1", "header_timeout_s", "must be a number of seconds greater than 0 and at most 86400, not -1"),
        ("INCTRL_HEADER_TIMEOUT_S", "86401", "header_timeout_s", "must be a number of seconds greater than 0 and at most 86400, not 86401"),
        ("INCTRL_HEADER_TIMEOUT_S", "inf", "header_timeout_s", "must be a number of seconds greater than 0 and at most 86400, not \"inf\""),
        ("INCTRL_HEADER_TIMEOUT_S", "nan", "header_timeout_s", "must be a number of seconds greater than 0 and at most 86400, not \"nan\""),
        ("INCTRL_HEADER_TIMEOUT_S", "1e3", "header_timeout_s", "must be a number of seconds greater than 0 and at most 86400, not \"1e3\""),
        ("INCTRL_HEADER_TIMEOUT_S", "0x10", "header_timeout_s", "must be a number of seconds greater than 0 and at most 86400, not \"0x10\""),
        ("INCTRL_HEADER_TIMEOUT_S", "10s", "header_timeout_s", "must be a number of seconds greater than 0 and at most 86400, not \"10s\""),
        ("INCTRL_SHUTDOWN_GRACE_S", "-0.5", "shutdown_grace_s", "must be a number of seconds at least 0 and at most 86400, not -0.5"),
        ("INCTRL_PRECISION", "FP32", "precision", "must be one of fp32, bf16, not \"FP32\""),
        ("INCTRL_IO_BACKEND", "kqueue", "io_backend", "must be one of epoll, dispatch, not \"kqueue\""),
        ("INCTRL_LOG_FORMAT", "xml", "log_format", "must be one of text, json, not \"xml\""),
        ("INCTRL_LOG_LEVEL", "verbose", "log_level", "must be one of trace, debug, info, notice, warning, error, critical, not \"verbose\""),
        ("INCTRL_LOG_BUFFER_BYTES", "4096", "log_buffer_bytes", "must be an integer of at least 65536, not 4096"),
        ("INCTRL_HOST", "", "host", "must be a non-empty string without control characters, not \"\""),
        ("INCTRL_DATA_DIR", "data\ndir", "data_dir", "must be a non-empty string without control characters, not \"data\\ndir\""),
        // A store that is no URL is refused without showing its password.
        ("INCTRL_STORE", "postgre://inctrl:secret@db/inctrl", "store", "must be file, or a URL starting postgres:// or postgresql://, not \"postgre://inctrl:***@db/inctrl\""),
        ("INCTRL_STORE", "", "store", "must be file, or a URL starting postgres:// or postgresql://, not \"\""),
        ("INCTRL_STORE_POOL_SIZE", "0", "store_pool_size", "must be an integer from 1 to 1000, not 0"),
    ])
    func badEnvironmentValueIsRefusedNamingKeyAndVariable(variable: String, value: String, key: String, reason: String) {
        let error = loadError(environment: [variable: value])
        #expect(error == .invalidValue(key: key, source: .environment(variable: variable), reason: reason))
        let description = error?.description ?? ""
        #expect(description.contains("'\(key)'") && description.contains(variable))
    }

    @Test func bf16IsRefusedUnlessTheCallerSupportsIt() throws {
        let error = loadError(environment: ["INCTRL_PRECISION": "bf16"])
        guard case let .invalidValue(key, source, reason) = error else {
            Issue.record("expected invalidValue, got \(String(describing: error))")
            return
        }
        #expect(key == "precision")
        #expect(source == .environment(variable: "INCTRL_PRECISION"))
        #expect(reason.contains("bf16") && reason.contains("use fp32"))
        let configuration = try ServiceConfiguration.load(
            file: nil, environment: ["INCTRL_PRECISION": "bf16"], supportedPrecisions: [.fp32, .bf16])
        #expect(configuration.precision == .bf16)
    }

    @Test func fp32IsRefusedWhenTheCallerSupportsOnlyBF16() {
        let error = loadError(supportedPrecisions: [.bf16])
        #expect(error == .invalidValue(
            key: "precision", source: .defaultValue,
            reason: "is fp32, which this model or CPU cannot run; use bf16"))
    }

    @Test func imageLimitAboveBodyLimitIsRefused() throws {
        let url = try file(#"{"max_body_bytes": 1000, "max_image_bytes": 2000}"#)
        let error = loadError(file: url)
        guard case let .invalidValue(key, source, reason) = error else {
            Issue.record("expected invalidValue, got \(String(describing: error))")
            return
        }
        #expect(key == "max_image_bytes")
        #expect(source == .file(path: url.path))
        #expect(reason.contains("max_body_bytes (1000)"))

        // Lowering only the body limit leaves the image limit at a default that no longer
        // fits, and the error says the value is the default.
        let lowered = loadError(environment: ["INCTRL_MAX_BODY_BYTES": "1000"])
        guard case let .invalidValue(loweredKey, loweredSource, _) = lowered else {
            Issue.record("expected invalidValue, got \(String(describing: lowered))")
            return
        }
        #expect(loweredKey == "max_image_bytes")
        #expect(loweredSource == .defaultValue)
    }

    @Test func fractionalSecondsFromTheFile() throws {
        let url = try file(#"{"header_timeout_s": 0.25, "idle_timeout_s": 3}"#)
        let configuration = try ServiceConfiguration.load(file: url, environment: [:])
        #expect(configuration.headerTimeout == .milliseconds(250))
        #expect(configuration.idleTimeout == .seconds(3))
    }

    @Test func emptyObjectMeansDefaults() throws {
        let url = try file("{}")
        #expect(try ServiceConfiguration.load(file: url, environment: [:]) == ServiceConfiguration())
    }

    @Test(arguments: [
        (#"{"port": "8080"}"#, "port", "must be an integer from 0 to 65535, not the string \"8080\""),
        (#"{"port": 8080.5}"#, "port", "must be an integer from 0 to 65535, not 8080.5"),
        (#"{"port": 8080.0}"#, "port", "must be an integer from 0 to 65535, not 8080.0"),
        (#"{"port": true}"#, "port", "must be an integer from 0 to 65535, not true"),
        (#"{"port": null}"#, "port", "must be an integer from 0 to 65535, not null"),
        (#"{"port": [8080]}"#, "port", "must be an integer from 0 to 65535, not an array"),
        (#"{"port": 65536}"#, "port", "must be an integer from 0 to 65535, not 65536"),
        (#"{"host": 127}"#, "host", "must be a non-empty string without control characters, not 127"),
        (#"{"host": {"name": "x"}}"#, "host", "must be a non-empty string without control characters, not an object"),
        (#"{"header_timeout_s": "10"}"#, "header_timeout_s", "must be a number of seconds greater than 0 and at most 86400, not the string \"10\""),
        (#"{"header_timeout_s": 1e9}"#, "header_timeout_s", "must be a number of seconds greater than 0 and at most 86400, not 1000000000"),
        (#"{"precision": "fp16"}"#, "precision", "must be one of fp32, bf16, not \"fp16\""),
        (#"{"log_format": false}"#, "log_format", "must be one of text, json, not false"),
    ])
    func wrongTypeOrRangeInTheFileIsRefusedNamingKeyAndFile(json: String, key: String, reason: String) throws {
        let url = try file(json)
        #expect(loadError(file: url) == .invalidValue(key: key, source: .file(path: url.path), reason: reason))
    }

    @Test func fileValueFixedByTheEnvironmentIsAccepted() throws {
        let url = try file(#"{"port": 70000}"#)
        #expect(try ServiceConfiguration.load(file: url, environment: ["INCTRL_PORT": "8081"]).port == 8081)
    }

    @Test(arguments: [
        ("max_body_byte", "max_body_bytes"),
        ("maxBodyBytes", "max_body_bytes"),
        ("HEADER-TIMEOUT-S", "header_timeout_s"),
        ("prot", "port"),
        ("colour", nil),
    ] as [(String, String?)])
    func unknownFileKeyIsRefusedWithASuggestion(key: String, suggestion: String?) throws {
        let url = try file(#"{"port": 8080, "\#(key)": 1}"#)
        #expect(loadError(file: url) == .unknownKey(key: key, path: url.path, suggestion: suggestion))
    }

    @Test func missingFileIsNamed() {
        let url = directory.appendingPathComponent("absent.json")
        let error = loadError(file: url)
        #expect(error == .fileNotFound(path: url.path))
        #expect(error?.description.contains(url.path) == true)
    }

    @Test func directoryIsNotAFile() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        #expect(loadError(file: directory) == .fileUnreadable(path: directory.path, reason: "it is a directory"))
    }

    @Test(arguments: [#"{"port": 8080,}"#, #"{"port": 8080"#, "", "port = 8080", #"{"port": 08080}"#])
    func invalidJSONIsRefused(text: String) throws {
        let url = try file(text)
        let error = loadError(file: url)
        guard case let .invalidJSON(path, reason) = error else {
            Issue.record("expected invalidJSON, got \(String(describing: error))")
            return
        }
        #expect(path == url.path)
        #expect(!reason.isEmpty)
    }

    @Test func invalidJSONErrorSaysWhere() throws {
        let url = try file("{\n  \"port\": 8080,\n}\n")
        let error = loadError(file: url)
        #expect(error == .invalidJSON(path: url.path, reason: "line 3, column 1: expected a key in double quotes"))
        #expect(error?.description == "config file \(url.path) is not valid JSON: line 3, column 1: expected a key in double quotes")
    }

    @Test func duplicateKeyIsRefused() throws {
        let url = try file(#"{"port": 8080, "port": 9090}"#)
        #expect(loadError(file: url) == .duplicateKey(key: "port", path: url.path))
    }

    @Test(arguments: ["[]", "8080", #""port""#, "null"])
    func topLevelMustBeAnObject(text: String) throws {
        let url = try file(text)
        #expect(loadError(file: url) == .notAnObject(path: url.path))
    }

    @Test func errorsSayWhatToChange() {
        let errors: [ConfigurationError] = [
            .fileNotFound(path: "Config/x.json"),
            .fileUnreadable(path: "Config/x.json", reason: "permission denied"),
            .invalidJSON(path: "Config/x.json", reason: "unexpected end of file"),
            .notAnObject(path: "Config/x.json"),
            .duplicateKey(key: "port", path: "Config/x.json"),
            .unknownKey(key: "prot", path: "Config/x.json", suggestion: "port"),
            .unknownKey(key: "colour", path: "Config/x.json", suggestion: nil),
            .invalidValue(key: "port", source: .file(path: "Config/x.json"), reason: "must be an integer"),
        ]
        for error in errors {
            #expect(error.description.contains("Config/x.json"), "\(error)")
        }
        #expect(errors[5].description.contains("did you mean 'port'?"))
        #expect(ConfigurationError.invalidValue(key: "port", source: .defaultValue, reason: "r").description
            == "configuration key 'port' (from the default) r")
    }
}
