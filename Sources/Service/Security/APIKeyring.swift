import Synchronization
import Tensor

/// The keys the server accepts, read from the keys file at start and again on `SIGHUP`.
///
/// A presented key is hashed and compared with every stored digest in constant time (every
/// byte of every digest is looked at, whatever matches), so timing tells nothing about how
/// close a guess came. The key's text is never kept or logged; requests are logged under
/// the key's id.
public final class APIKeyring: Sendable {
    /// The keys file.
    public let path: String
    private let keys: Mutex<[APIKey]>

    /// Reads the keys file at `path`.
    public init(path: String) throws(APIKeyFileError) {
        self.path = path
        keys = Mutex(try APIKeyFile.read(path).keys)
    }

    /// Reads the keys file again; on failure the keys in use stay.
    @discardableResult
    public func reload() throws(APIKeyFileError) -> Int {
        let fresh = try APIKeyFile.read(path).keys
        keys.withLock { $0 = fresh }
        return fresh.count
    }

    /// The number of keys accepted now.
    public var count: Int { keys.withLock { $0.count } }

    /// The key whose text is `presented`, or nil.
    public func key(for presented: String) -> APIKey? {
        let digest = Array(SHA256.hex(Array(presented.utf8)).utf8)
        return keys.withLock { keys in
            var found: APIKey?
            for key in keys where Self.constantTimeEqual(Array(key.sha256.utf8), digest) { found = key }
            return found
        }
    }

    /// Equal lengths and bytes, looking at every byte.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
