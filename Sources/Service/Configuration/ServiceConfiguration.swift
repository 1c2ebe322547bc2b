import HTTP1
import Logging
import Tensor

/// Everything `inctrl serve` can be tuned by (the README's configuration table is made from it).
///
/// Every field has a default that is safe to run with: the server listens on loopback only,
/// and every limit is finite. `load(file:environment:supportedPrecisions:)` reads a JSON file
/// with the snake_case keys listed in `documentation`, lets `INCTRL_<KEY>` environment
/// variables override it, and refuses any value it cannot use, naming the key and where the
/// value came from.
public struct ServiceConfiguration: Sendable, Equatable {
    /// Host name or address to listen on. Loopback by default, so that a fresh install is
    /// not reachable from the network until someone decides it should be; `0.0.0.0` (or
    /// `::`) listens on every interface, as a container needs.
    public var host = "127.0.0.1"
    /// TCP port to listen on; 0 lets the kernel choose one.
    public var port = 8080
    /// Directory of the model bundle to serve (docs/ARCHITECTURE.md, "The model bundle").
    public var model = "models/inctrl"
    /// Directory the prompt-set store keeps its images and manifests in; created if missing.
    public var dataDirectory = "data"
    /// Where prompt sets are kept: `file` (``FileStore`` in ``dataDirectory``) or a
    /// `postgres://` URL that every replica shares (``storeLocation``). Never logged as
    /// given: its password is shown as `***`.
    public var store = "file"
    /// Connections the PostgreSQL store keeps open, each serving one database call at a
    /// time; unused with the file store.
    public var storePoolSize = 4

    /// ``store`` parsed; validation refuses a value that does not parse, so a loaded
    /// configuration always has one (an unparsable value set in code reads as `file`).
    public var storeLocation: StoreLocation { StoreLocation(store) ?? .file }
    /// Numeric precision of the CLIP towers' matmuls. fp32 unless the operator asks for bf16,
    /// which loading accepts only where the caller confirms this CPU runs it natively, so
    /// precision never changes behind the operator's back.
    public var precision = Precision.fp32
    /// Largest request body, in bytes, after any chunked decoding (413 beyond).
    public var maxBodyBytes = 32 * 1024 * 1024
    /// Most request-body bytes held in memory at once over all connections; a request whose
    /// declared (or growing chunked) body would pass it gets 503 before its body is read.
    public var maxInflightBodyBytes = 256 * 1024 * 1024
    /// Largest request header section, in bytes (431 beyond).
    public var maxHeaderBytes = 32 * 1024
    /// Most client connections open at once; further clients wait in the kernel's backlog.
    public var maxConnections = 1024
    /// Time a client has to send a whole header section (408 and close beyond): the
    /// defence against clients that trickle bytes to hold connections open.
    public var headerTimeout = Duration.seconds(10)
    /// Time a client has to send a whole body once its headers are in (408 and close).
    public var bodyTimeout = Duration.seconds(60)
    /// How long a kept-alive connection may sit idle between requests before it is closed.
    public var idleTimeout = Duration.seconds(30)
    /// How long a response may wait for a client that stopped reading before the
    /// connection is dropped.
    public var writeTimeout = Duration.seconds(30)
    /// On shutdown, how long requests in flight may take to finish before their connections
    /// are closed; zero closes them at once.
    public var shutdownGrace = Duration.seconds(10)
    /// How the HTTP server's event loops wait for I/O: `epoll` or `dispatch` (see
    /// ``IOBackend``; the README's "Speed" compares them).
    public var ioBackend = IOBackend.default
    /// Most requests waiting for the model at once. Beyond it requests are refused at once
    /// with 429 rather than queued into seconds of latency.
    public var queueSize = 32
    /// Most queries the model runs as one stacked vision forward (dynamic batching; each
    /// result is the same bits as the query alone). 1 runs every query alone.
    public var maxBatch = 8
    /// How long the model waits for more queries once it has taken one, in milliseconds;
    /// 0 takes only the queries already waiting and never waits.
    public var batchWindowMilliseconds = 0.0
    /// Seconds a client refused with 429 is told to wait (`Retry-After`).
    public var retryAfterSeconds = 1
    /// Milliseconds a refusal for overload (429, or 503 for the body budget) is held before it
    /// is sent, so clients that ignore `Retry-After` cannot flood the service with refused
    /// requests and take the processor from admitted ones; 0 answers at once.
    public var refusalDelayMilliseconds = 500.0
    /// Most images in one prompt set (InCTRL is evaluated with 2, 4 and 8 shots).
    public var maxImagesPerSet = 16
    /// Most pixels (width × height) an image may declare; larger images are refused before
    /// they are decoded, so a small compressed file cannot claim gigabytes of memory.
    public var maxImagePixels = 40_000_000
    /// Largest single encoded image, in bytes.
    public var maxImageBytes = 16 * 1024 * 1024
    /// Most prompt sets stored at once. Each keeps its image features in memory, about
    /// 2.4 MB per image for the full-size model, so 100 sets of 8 shots hold about 2 GB.
    public var maxPromptSets = 100
    /// Most extra normal images one prompt set keeps for calibration.
    public var maxCalibrationImages = 64
    /// Most bytes of prompt-set features one replica keeps in memory; the least recently
    /// used sets' features are let go beyond it and read again from the store when needed.
    /// 2 GiB holds the default 100 sets of 8 shots of the full-size model.
    public var featureCacheBytes = 2 << 30
    /// Most images in one `POST /score/batch` request; each takes a place in the model queue.
    public var maxBatchImages = 32
    /// A set's calibrated threshold is its largest normal score plus this many standard
    /// deviations of its normal scores.
    public var thresholdMargin = 1.0
    /// The certificate chain (PEM, server certificate first) that turns the listener into
    /// HTTPS, with `tlsKeyFile`; both empty: plain HTTP. Reloaded on `SIGHUP`.
    public var tlsCertificateFile = ""
    /// The certificate's private key (PEM, unencrypted).
    public var tlsKeyFile = ""
    /// Time a client has to complete the TLS handshake.
    public var tlsHandshakeTimeout = Duration.seconds(10)
    /// The API keys file (`inctrl keys create`); empty: no keys, every route open, which
    /// only a loopback address allows unless `allowUnauthenticated`.
    public var apiKeysFile = ""
    /// Whether `/metrics` answers without a key when keys are configured.
    public var metricsPublic = false
    /// Whether to listen beyond loopback without API keys (a loud warning then).
    public var allowUnauthenticated = false
    /// Requests a second each client (API key, or address without keys) may make on
    /// average; 0 turns the limit off.
    public var rateLimitPerSecond = 0.0
    /// Requests a client may make at once above its rate.
    public var rateLimitBurst = 20
    /// How log lines are written: readable text, or one JSON object per line.
    public var logFormat = LogFormat.text
    /// The least severe log level written.
    public var logLevel = Logger.Level.info
    /// The bound on log bytes waiting for the log thread: a reader of standard error slower
    /// than the service costs dropped lines, never stalled requests.
    public var logBufferBytes = LogWriter.defaultCapacity

    /// The default configuration.
    public init() {}

    /// A precision the CLIP towers' matmuls can run in: the model's own
    /// ``WeightPrecision``, so the setting reaches the model without translation.
    public typealias Precision = WeightPrecision

    /// The shape of log lines.
    public enum LogFormat: String, Sendable, CaseIterable {
        /// `timestamp level message key=value …`, for people reading a terminal.
        case text
        /// One JSON object per line, for log collectors.
        case json
    }
}
