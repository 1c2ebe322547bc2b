import ArgumentParser
import Dispatch
import Foundation
import HTTP1
import InCTRL
import Logging
import PostgresStore
import Service
import Tensor

/// `inctrl serve`: the HTTP service of `openapi.yaml`.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the scoring API over HTTP/1.1.",
        discussion: """
            Configuration comes from the JSON file given with --config (every key optional), then
            from INCTRL_<KEY> environment variables (e.g. INCTRL_PORT, INCTRL_MODEL, INCTRL_DATA_DIR),
            which win. An invalid value stops the start with a message naming the key.
            SIGTERM or SIGINT stops accepting, lets in-flight requests finish within
            shutdown_grace_s, and exits 0.
            """
    )

    @Option(help: "Configuration file (JSON); keys documented in the README.")
    var config: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let settings: ServiceConfiguration
        // bf16 is offered only where this CPU multiplies it natively.
        let supported = Set(WeightPrecision.allCases.filter(InCTRLModel.supports))
        do {
            settings = try ServiceConfiguration.load(
                file: config.map { URL(fileURLWithPath: $0) }, environment: environment, supportedPrecisions: supported)
        } catch {
            var message = "invalid configuration: \(error)"
            if case .invalidValue(key: "precision", _, _) = error, !supported.contains(.bf16) {
                message += " (bf16 needs AVX-512 BF16 or AMX; this CPU offers \(ComputeEngine.instructionSet))"
            }
            throw ValidationError(message)
        }
        // Log lines go to standard error through one writer thread, so no request waits for
        // whoever reads it. Whatever way `run` ends (stopped, or failing to start), the lines
        // still buffered are written before the process exits.
        let logWriter = LogWriter(capacity: settings.logBufferBytes)
        defer { logWriter.flush() }
        LoggingSystem.bootstrap { label in
            ServiceLogHandler(label: label, format: settings.logFormat, level: settings.logLevel, writer: logWriter)
        }
        let logger = Logger(label: "inctrl")
        let store: any PromptSetStore
        switch settings.storeLocation {
        case .file:
            store = FileStore(dataDirectory: URL(fileURLWithPath: settings.dataDirectory))
        case let .postgres(url):
            store = PostgresStore(url: url, poolSize: settings.storePoolSize)
        }
        let service = try InCTRLService(configuration: settings, store: store, logger: logger, logWriter: logWriter)

        let server = HTTPServer(
            configuration: settings.httpServer, headCheck: service.headCheck, immediateHandler: service.immediateHandler,
            handler: service.handler)
        service.runs(in: server)

        try server.start()
        server.shutdownOnSignals(gracePeriod: settings.shutdownGrace)
        // SIGHUP reads the API keys file and the TLS certificate and key again, without
        // dropping a connection; a file that does not load leaves the one in use.
        signal(SIGHUP, SIG_IGN)
        let reload = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        reload.setEventHandler {
            service.reloadKeys()
            guard settings.httpServer.tls != nil else { return }
            do {
                try server.reloadTLS()
                service.audit("tls.reloaded", ["certificate": settings.tlsCertificateFile])
            } catch {
                logger.error("could not reload the TLS certificate; the one in use stays", metadata: ["error": "\(error)"])
            }
        }
        reload.resume()
        logger.info(
            "listening",
            metadata: [
                "address": "\(server.addresses.map { "\($0)" }.joined(separator: ", "))",
                "model": "\(settings.model)", "store": "\(service.storeDescription)",
                "precision": "\(settings.precision.rawValue)", "queue_size": "\(settings.queueSize)",
                "max_batch": "\(settings.maxBatch)", "batch_window_ms": "\(String(format: "%g", settings.batchWindowMilliseconds))",
            ])
        let loading = Task { try await service.load() }
        await server.waitUntilStopped()
        reload.cancel()
        loading.cancel()
        logger.info("stopped")
    }
}
