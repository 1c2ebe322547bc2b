extension ServiceConfiguration {
    /// Checks every value is in range and the values agree with each other, naming the first
    /// key that is wrong and where its value came from (`sources`; keys not in it hold
    /// their defaults or were set in code).
    func validate(
        supportedPrecisions: Set<Precision>, sources: [String: ConfigurationSource]
    ) throws(ConfigurationError) {
        func source(of key: String) -> ConfigurationSource { sources[key] ?? .defaultValue }
        for setting in Self.settings {
            do {
                try setting.check(self)
            } catch {
                throw .invalidValue(
                    key: setting.key, source: source(of: setting.key),
                    reason: "must be \(setting.accepted), not \(error.shown)")
            }
        }
        if !supportedPrecisions.contains(precision) {
            let supported = Precision.allCases.filter(supportedPrecisions.contains).map(\.rawValue)
            throw .invalidValue(
                key: "precision", source: source(of: "precision"),
                reason: "is \(precision.rawValue), which this model or CPU cannot run; use "
                    + (supported.isEmpty ? "a model that supports fp32" : supported.joined(separator: " or ")))
        }
        // A certificate without its key (or the other way round) cannot serve HTTPS.
        if tlsCertificateFile.isEmpty != tlsKeyFile.isEmpty {
            let missing = tlsCertificateFile.isEmpty ? "tls_cert_file" : "tls_key_file"
            throw .invalidValue(
                key: missing, source: source(of: missing),
                reason: "is empty while \(missing == "tls_cert_file" ? "tls_key_file" : "tls_cert_file") is set; HTTPS needs both the certificate chain and its private key")
        }
        // Anyone who reaches the port could register and delete prompt sets.
        if apiKeysFile.isEmpty, !allowUnauthenticated, !Self.isLoopback(host) {
            throw .invalidValue(
                key: "host", source: source(of: "host"),
                reason: "is \(host), beyond loopback, and no api_keys_file is set: anyone who reaches the port could register and delete prompt sets. Create a key with 'inctrl keys create --id NAME --scopes score,admin --file keys.json' and set api_keys_file (INCTRL_API_KEYS_FILE) to that file, or set allow_unauthenticated to true to accept the risk")
        }
        // One body must fit in the budget, or no request of that size could ever be read.
        if maxInflightBodyBytes < maxBodyBytes {
            throw .invalidValue(
                key: "max_inflight_body_bytes", source: source(of: "max_inflight_body_bytes"),
                reason: "is \(maxInflightBodyBytes), less than max_body_bytes (\(maxBodyBytes)); a request of the largest size could never be read, so raise it or lower max_body_bytes")
        }
        // A batch holds a place in the model queue for each of its images, so a larger batch
        // could never be admitted.
        if maxBatchImages > queueSize {
            throw .invalidValue(
                key: "max_batch_images", source: source(of: "max_batch_images"),
                reason: "is \(maxBatchImages), more than queue_size (\(queueSize)); a batch takes a queue place per image, so lower it or raise queue_size")
        }
        // An image always arrives inside a request body, so a larger image limit could never
        // be reached and would only mislead whoever reads the configuration.
        if maxImageBytes > maxBodyBytes {
            throw .invalidValue(
                key: "max_image_bytes", source: source(of: "max_image_bytes"),
                reason: "is \(maxImageBytes), more than max_body_bytes (\(maxBodyBytes)); an image arrives inside a request body, so lower it or raise max_body_bytes")
        }
    }

    /// Whether `host` names only this machine: `localhost`, 127.0.0.0/8 or `::1`.
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy({ UInt8($0) != nil }) && octets[0] == "127"
    }
}
