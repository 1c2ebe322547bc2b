import Logging

extension ServiceConfiguration {
    /// Every configuration key, in the order the file and the documentation list them. The
    /// one table that the file reader, the environment reader, validation and the
    /// documentation all work from, so they cannot disagree about a key.
    static let settings: [ConfigurationSetting] = [
        .text("host", \.host, meaning: "Host name or address to listen on; `0.0.0.0` or `::` for every interface."),
        .integer("port", \.port, in: 0...65535, meaning: "TCP port to listen on; 0 lets the kernel choose."),
        .text("model", \.model, meaning: "Directory of the model bundle to serve."),
        .text("data_dir", \.dataDirectory, meaning: "Directory where the file store keeps prompt sets; created if missing."),
        .storeLocation("store", \.store, meaning: "Where prompt sets are kept: `file` (in data_dir) or a PostgreSQL URL `postgres://user:password@host:port/db[?sslmode=require]` shared by every replica (its password is logged as `***`)."),
        .integer("store_pool_size", \.storePoolSize, in: 1...1000, meaning: "Connections the PostgreSQL store keeps open, each serving one database call at a time."),
        .choice("precision", \.precision, meaning: "Precision of the CLIP towers' matmuls: fp32 (the reference's arithmetic) or bf16 (faster; refused at start where the CPU does not multiply bf16 natively)."),
        .integer("max_body_bytes", \.maxBodyBytes, in: 1...Int.max, meaning: "Largest request body in bytes (413 beyond)."),
        .integer("max_inflight_body_bytes", \.maxInflightBodyBytes, in: 1...Int.max, meaning: "Most request-body bytes held in memory at once over all connections (503 with Retry-After beyond, before the body is read); at least max_body_bytes."),
        .integer("max_header_bytes", \.maxHeaderBytes, in: 1024...(1024 * 1024), meaning: "Largest request header section in bytes (431 beyond)."),
        .integer("max_connections", \.maxConnections, in: 1...Int.max, meaning: "Most client connections open at once."),
        .seconds("header_timeout_s", \.headerTimeout, meaning: "Seconds a client has to send its request headers (408 beyond)."),
        .seconds("body_timeout_s", \.bodyTimeout, meaning: "Seconds a client has to send a request body once its headers are in (408 beyond)."),
        .seconds("idle_timeout_s", \.idleTimeout, meaning: "Seconds a kept-alive connection may sit idle between requests."),
        .seconds("write_timeout_s", \.writeTimeout, meaning: "Seconds a response may wait for a client that stopped reading."),
        .seconds("shutdown_grace_s", \.shutdownGrace, allowsZero: true, meaning: "Seconds requests in flight may take to finish on shutdown."),
        .choice("io_backend", \.ioBackend, meaning: "How the HTTP event loops wait for I/O: epoll (a thread per loop on its own epoll instance) or dispatch (a serial Dispatch queue per loop, with a read and a write source per connection). Both serve the same; \"Speed\" below compares them."),
        .integer("queue_size", \.queueSize, in: 1...Int.max, meaning: "Most requests waiting for the model; more are refused with 429."),
        .integer("max_batch", \.maxBatch, in: 1...64, meaning: "Most queries whose vision forwards run as one stacked forward (each result the same bits as alone); 1 turns batching off."),
        .number("batch_window_ms", \.batchWindowMilliseconds, in: 0...1000, meaning: "Milliseconds the model waits for more queries once it has taken one, to fill a batch; 0: take only those already waiting, never wait."),
        .number("refusal_delay_ms", \.refusalDelayMilliseconds, in: 0...10000, meaning: "Milliseconds a refusal for overload (429, or 503 for the body budget) is held before it is sent, so clients that ignore Retry-After and ask again at once ask at most once per delay per connection; the held request's body is never read. 0: answer at once."),
        .integer("retry_after_s", \.retryAfterSeconds, in: 0...3600, meaning: "Seconds a client refused with 429 is told to wait (Retry-After)."),
        .integer("max_images_per_set", \.maxImagesPerSet, in: 1...Int.max, meaning: "Most images in one prompt set."),
        .integer("max_image_pixels", \.maxImagePixels, in: 1...Int.max, meaning: "Most pixels (width × height) an image may declare."),
        .integer("max_image_bytes", \.maxImageBytes, in: 1...Int.max, meaning: "Largest single encoded image in bytes; at most max_body_bytes."),
        .integer("max_prompt_sets", \.maxPromptSets, in: 1...Int.max, meaning: "Most prompt sets stored at once."),
        .integer("max_calibration_images", \.maxCalibrationImages, in: 0...Int.max, meaning: "Most extra normal images one prompt set keeps for calibration."),
        .integer("feature_cache_bytes", \.featureCacheBytes, in: 0...Int.max, meaning: "Most bytes of prompt-set features kept in memory; the least recently used sets' features are let go beyond it and read again from the store (or computed again) on their next use. One set is always kept, however large."),
        .integer("max_batch_images", \.maxBatchImages, in: 1...Int.max, meaning: "Most images in one POST /score/batch request."),
        .number("threshold_margin", \.thresholdMargin, in: 0...100, meaning: "Standard deviations of the normal scores added to the largest one to make a set's calibrated threshold."),
        .text("tls_cert_file", \.tlsCertificateFile, allowsEmpty: true, meaning: "Certificate chain (PEM, server certificate first) that, with tls_key_file, turns the listener into HTTPS (TLS 1.2 and 1.3, ALPN http/1.1); empty: plain HTTP. Reloaded on SIGHUP."),
        .text("tls_key_file", \.tlsKeyFile, allowsEmpty: true, meaning: "The certificate's private key (PEM, unencrypted); set with tls_cert_file."),
        .seconds("tls_handshake_timeout_s", \.tlsHandshakeTimeout, meaning: "Seconds a client has to complete the TLS handshake."),
        .text("api_keys_file", \.apiKeysFile, allowsEmpty: true, meaning: "API keys file made by `inctrl keys create`; empty: no keys (every route open, allowed only on loopback unless allow_unauthenticated). Reloaded on SIGHUP."),
        .flag("metrics_public", \.metricsPublic, meaning: "Whether GET /metrics answers without a key when keys are configured."),
        .flag("allow_unauthenticated", \.allowUnauthenticated, meaning: "Whether to listen beyond loopback without API keys (anyone who reaches the port can register and delete prompt sets)."),
        .number("rate_limit_per_s", \.rateLimitPerSecond, in: 0...1_000_000, meaning: "Requests a second each client (API key, or address without keys) may make on average (429 beyond); 0: no limit."),
        .integer("rate_limit_burst", \.rateLimitBurst, in: 1...1_000_000, meaning: "Requests a client may make at once above its rate."),
        .choice("log_format", \.logFormat, meaning: "Log lines as readable text or as one JSON object per line."),
        .choice("log_level", \.logLevel, meaning: "The least severe log level written."),
        .integer("log_buffer_bytes", \.logBufferBytes, in: LogWriter.minimumCapacity...Int.max, meaning: "Most bytes of log lines waiting to be written to standard error; lines beyond are dropped and counted in inctrl_log_lines_dropped_total rather than making requests wait."),
    ]

    /// The environment variable that overrides `key`.
    static func environmentVariable(for key: String) -> String {
        "INCTRL_" + key.uppercased()
    }
}

