import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import PostgresStore

/// A real PostgreSQL 15 cluster for the tests, started once per test process on a free
/// loopback port, with one fresh database per test (``createDatabase()``).
///
/// The cluster lives in `/tmp/inctrl-pg-<test pid>-<random>/` (data, socket, log), owned by
/// the `postgres` user when the tests run as root (initdb refuses root), with trust
/// authentication on 127.0.0.1 only. It is stopped when the test process exits. A cluster
/// whose test process died (its `owner.pid` names a process that is gone) is stopped and
/// removed by the next test process, so none outlives a CI run.
///
/// The tests that need it skip only when PostgreSQL 15 is not installed and
/// `INCTRL_REQUIRE_POSTGRES` is not set; `scripts/test` sets it (and installs PostgreSQL),
/// so CI never skips them silently.
final class PostgresServer: Sendable {
    static let binaries = "/usr/lib/postgresql/15/bin"
    static let directoryPrefix = "inctrl-pg-"

    /// The loopback port the cluster listens on.
    let port: Int
    /// The cluster's directory.
    let directory: String

    /// Whether this process runs the PostgreSQL tests: the server is installed, or the
    /// environment requires them (then a missing server fails them instead of skipping).
    static var isEnabled: Bool {
        isInstalled || ProcessInfo.processInfo.environment["INCTRL_REQUIRE_POSTGRES"] != nil
    }

    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: binaries + "/initdb") }

    static let skipMessage = "PostgreSQL 15 is not installed (\(binaries)/initdb is missing) and INCTRL_REQUIRE_POSTGRES is not set: install the postgresql package, or run scripts/test"

    /// The cluster of this test process, started on first use.
    static let shared: Result<PostgresServer, Error> = Result { try PostgresServer() }

    /// The running cluster, or the reason it could not start.
    static func running() throws -> PostgresServer { try shared.get() }

    private init() throws {
        guard Self.isInstalled else {
            throw Failure("INCTRL_REQUIRE_POSTGRES is set but \(Self.binaries)/initdb is missing; install the postgresql package (scripts/bootstrap does)")
        }
        Self.stopStaleClusters()
        let directory = NSTemporaryDirectory().appending("/\(Self.directoryPrefix)\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try String(getpid()).write(toFile: directory + "/owner.pid", atomically: true, encoding: .utf8)
        if getuid() == 0 { try Self.run(["/bin/chown", "-R", "postgres:postgres", directory]) }
        try Self.runAsPostgres([
            Self.binaries + "/initdb", "-D", directory + "/data", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync",
            "--locale=C",
        ])
        let port = try Self.freePort()
        // pg_ctl writes the postmaster's pid into data/postmaster.pid; -w -t 30 waits until
        // it accepts connections, or fails after 30 s.
        try Self.runAsPostgres([
            Self.binaries + "/pg_ctl", "-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "30",
            "-o", "-c listen_addresses=127.0.0.1 -p \(port) -c unix_socket_directories=\(directory) -c fsync=off -c full_page_writes=off -c max_connections=300",
            "start",
        ])
        self.port = port
        self.directory = directory
        Self.stopAtExit = directory
        atexit {
            if let directory = PostgresServer.stopAtExit { PostgresServer.stop(directory) }
        }
    }

    /// The directory of the cluster to stop when the process exits.
    nonisolated(unsafe) static var stopAtExit: String?

    /// A new, empty database; returns its URL.
    func createDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try admin("postgres").execute("CREATE DATABASE \(name)")
        return url(name)
    }

    /// The URL of database `name` as the test user.
    func url(_ name: String) -> String { "postgres://postgres@127.0.0.1:\(port)/\(name)" }

    /// A connection to database `name` for the tests' own statements.
    func admin(_ name: String) -> PostgresConnection {
        PostgresConnection(url: url(name), connectTimeout: 5, statementTimeout: 30_000)
    }

    /// A connection to the database `url` names, for the tests' own statements.
    static func admin(url: String) -> PostgresConnection {
        PostgresConnection(url: url, connectTimeout: 5, statementTimeout: 30_000)
    }

    /// Makes the database `url` names unreachable for every store, as a database that went
    /// down would be: no new connection is accepted, and those open are closed.
    func takeDown(_ url: String) throws {
        let name = String(url.split(separator: "/").last!)
        let admin = admin("postgres")
        try admin.execute("ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
        try admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [.text(name)])
    }

    /// Lets stores reach the database `url` names again.
    func bringUp(_ url: String) throws {
        let name = String(url.split(separator: "/").last!)
        try admin("postgres").execute("ALTER DATABASE \(name) ALLOW_CONNECTIONS true")
    }

    /// A loopback port nothing listens on right now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Failure("bind: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Stops and removes the clusters left by test processes that are gone.
    private static func stopStaleClusters() {
        let temporary = NSTemporaryDirectory()
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: temporary) else { return }
        for name in names where name.hasPrefix(directoryPrefix) {
            let directory = temporary + "/" + name
            guard let text = try? String(contentsOfFile: directory + "/owner.pid", encoding: .utf8),
                  let owner = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)),
                  kill(owner, 0) != 0, errno == ESRCH
            else { continue }
            stop(directory)
        }
    }

    /// Stops the cluster in `directory` at once and removes the directory.
    static func stop(_ directory: String) {
        _ = try? runAsPostgres([binaries + "/pg_ctl", "-D", directory + "/data", "-m", "immediate", "-w", "-t", "30", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs a PostgreSQL program as the `postgres` user when this process is root.
    @discardableResult
    private static func runAsPostgres(_ arguments: [String]) throws -> String {
        try run(getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + arguments : arguments)
    }

    /// Runs a program to its end; throws with its output when it fails. Spawned and reaped
    /// here (posix_spawn, waitpid) rather than through Foundation's Process, whose
    /// termination monitor can miss a child whose own child (the server) lives on.
    @discardableResult
    private static func run(_ arguments: [String]) throws -> String {
        // Output goes to a file, not a pipe: the server started in the background would keep
        // a pipe open and its reader waiting.
        let log = NSTemporaryDirectory() + "/inctrl-pg-run-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        guard spawned == 0 else { throw Failure("cannot run \(arguments[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        // Exited normally with status 0: the low 7 bits (the signal) and the exit code are zero.
        guard status == 0 else {
            throw Failure("\(arguments.joined(separator: " ")) failed (wait status \(status)): \(text)")
        }
        return text
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
