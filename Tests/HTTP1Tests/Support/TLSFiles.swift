import Foundation
@testable import HTTP1

/// A throwaway self-signed certificate and key for `localhost`, made with the `openssl`
/// command in a fresh temporary directory.
struct TLSFiles: Sendable {
    let directory: String
    let certificate: String
    let key: String

    /// A new directory holding `c.pem` and `k.pem` (EC P-256, valid for one day).
    static func make() async throws -> TLSFiles {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("http1-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let files = TLSFiles(directory: directory, certificate: directory + "/c.pem", key: directory + "/k.pem")
        try await files.regenerate()
        return files
    }

    /// Writes a new certificate and key over the old files.
    func regenerate() async throws {
        try await Self.generate(certificate: certificate, key: key)
    }

    /// Writes a self-signed certificate and its key to the given paths.
    static func generate(certificate: String, key: String) async throws {
        let result = try await ExternalCommand.run([
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-days", "1", "-subj", "/CN=localhost", "-keyout", key, "-out", certificate,
        ])
        guard result.succeeded else { throw TLSFilesError.opensslFailed(result.errorOutput) }
    }

    /// The SHA-256 of the certificate's DER form, in lowercase hex, as the client scripts
    /// print a peer's.
    func fingerprint() async throws -> String {
        let result = try await ExternalCommand.run([
            "python3", "-c",
            "import ssl,hashlib,sys; print(hashlib.sha256(ssl.PEM_cert_to_DER_cert(open(sys.argv[1]).read())).hexdigest())",
            certificate,
        ])
        guard result.succeeded else { throw TLSFilesError.opensslFailed(result.errorOutput) }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The server's TLS settings for these files.
    func configuration(handshakeTimeout: Duration = .seconds(5)) -> TLSConfiguration {
        TLSConfiguration(certificateChainFile: certificate, privateKeyFile: key, handshakeTimeout: handshakeTimeout)
    }

    /// Removes the directory.
    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

enum TLSFilesError: Error {
    case opensslFailed(String)
}
