import Glibc

/// A bound, listening, non-blocking socket.
struct ListeningSocket: Sendable {
    /// The socket's file descriptor.
    let descriptor: Int32
    /// The address it is bound to (with the port the kernel chose, for port 0).
    let address: SocketAddress

    /// Binds every address `host` resolves to (IPv4 and IPv6) on `port`, all on the same port
    /// even when `port` is 0, and listens on each.
    static func bindAll(host: String, port: Int, backlog: Int32) throws(HTTPServerError) -> [ListeningSocket] {
        let candidates = try resolve(host: host, port: port)
        // With both families present, an IPv6 wildcard must not also claim IPv4 (it would
        // collide with the IPv4 socket); alone, "::" keeps Linux's dual-stack default.
        let hasBothFamilies = Set(candidates.map(\.family)).count > 1
        var sockets: [ListeningSocket] = []
        var chosenPort = port
        do {
            for candidate in candidates {
                var address = candidate.address
                if chosenPort != 0 { Self.setPort(&address, chosenPort, family: candidate.family) }
                let socket = try open(candidate.family, address, candidate.length, v6Only: hasBothFamilies, backlog: backlog, host: host)
                sockets.append(socket)
                chosenPort = socket.address.port
            }
        } catch {
            for socket in sockets { close(socket.descriptor) }
            throw error
        }
        return sockets
    }

    private struct Candidate {
        var family: Int32
        var address: sockaddr_storage
        var length: socklen_t
    }

    private static func resolve(host: String, port: Int) throws(HTTPServerError) -> [Candidate] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let list else {
            throw .addressResolutionFailed(host: host, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var candidates: [Candidate] = []
        var seen: Set<SocketAddress> = []
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            entry = current.pointee.ai_next
            guard let address = current.pointee.ai_addr, let parsed = SocketAddress(address), seen.insert(parsed).inserted else {
                continue
            }
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { destination in
                destination.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(current.pointee.ai_addrlen)))
            }
            candidates.append(Candidate(family: current.pointee.ai_family, address: storage, length: current.pointee.ai_addrlen))
        }
        guard !candidates.isEmpty else {
            throw .addressResolutionFailed(host: host, reason: "no IPv4 or IPv6 address")
        }
        return candidates
    }

    private static func setPort(_ storage: inout sockaddr_storage, _ port: Int, family: Int32) {
        withUnsafeMutableBytes(of: &storage) { raw in
            if family == AF_INET6 {
                raw.withMemoryRebound(to: sockaddr_in6.self) { $0[0].sin6_port = UInt16(port).bigEndian }
            } else {
                raw.withMemoryRebound(to: sockaddr_in.self) { $0[0].sin_port = UInt16(port).bigEndian }
            }
        }
    }

    private static func open(
        _ family: Int32, _ address: sockaddr_storage, _ length: socklen_t, v6Only: Bool, backlog: Int32, host: String
    ) throws(HTTPServerError) -> ListeningSocket {
        var address = address
        let described = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress($0)?.description ?? host }
        }
        let descriptor = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else {
            throw .socketFailed(operation: "create a socket for", address: described, reason: SystemError.lastMessage())
        }
        // SO_REUSEADDR: a restarted server can bind while old connections sit in TIME_WAIT.
        SocketOptions.set(descriptor, SOL_SOCKET, SO_REUSEADDR, 1)
        if family == AF_INET6 && v6Only {
            SocketOptions.set(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1)
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else {
            let reason = SystemError.lastMessage()
            close(descriptor)
            throw .socketFailed(operation: "bind", address: described, reason: reason)
        }
        guard listen(descriptor, backlog) == 0 else {
            let reason = SystemError.lastMessage()
            close(descriptor)
            throw .socketFailed(operation: "listen on", address: described, reason: reason)
        }
        guard let local = SocketAddress.local(of: descriptor) else {
            let reason = SystemError.lastMessage()
            close(descriptor)
            throw .socketFailed(operation: "read the bound address of", address: described, reason: reason)
        }
        return ListeningSocket(descriptor: descriptor, address: local)
    }
}

/// `setsockopt` for integer options.
enum SocketOptions {
    /// Sets an integer socket option; failures are ignored because every option set here is
    /// an optimisation or a default the socket works without.
    static func set(_ socket: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var value = value
        _ = setsockopt(socket, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
    }
}

/// Text for `errno`.
enum SystemError {
    /// `strerror(errno)`.
    static func lastMessage() -> String {
        message(for: errno)
    }

    /// `strerror(code)`.
    static func message(for code: Int32) -> String {
        String(cString: strerror(code))
    }
}
