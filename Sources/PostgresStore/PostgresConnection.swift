import CLibPQ
import Foundation

/// One libpq connection. libpq blocks, so a connection is only ever used on its pool slot's
/// own dispatch queue, by one caller at a time (``PostgresConnectionPool``); it is neither
/// shared nor `Sendable` beyond that.
///
/// It connects lazily and, when libpq reports it broken (`PQstatus` is not
/// `CONNECTION_OK`), connects again on the next use, so a database that restarts is picked
/// up again without restarting the service.
final class PostgresConnection {
    /// The keywords and values given to `PQconnectdbParams`, with `dbname` expanded from
    /// the URL (whose own settings win over the defaults before it).
    private let keywords: [String]
    private let values: [String]
    private var handle: OpaquePointer?

    /// A connection to the database `url` names; nothing is opened until first used.
    ///
    /// - Parameters:
    ///   - connectTimeout: seconds libpq may take to connect (`connect_timeout`), unless
    ///     the URL sets its own.
    ///   - statementTimeout: milliseconds the server lets one statement run
    ///     (`statement_timeout`) before cancelling it.
    init(url: String, connectTimeout: Int, statementTimeout: Int) {
        let defaults = [
            ("connect_timeout", String(connectTimeout)),
            ("application_name", "inctrl-serve"),
            // A silent, broken network would otherwise hold a call for the kernel's
            // retransmission timeout (minutes): unacknowledged data and an idle peer are
            // given up on within seconds.
            ("tcp_user_timeout", String(connectTimeout * 1000)),
            ("keepalives", "1"), ("keepalives_idle", "10"), ("keepalives_interval", "5"), ("keepalives_count", "3"),
            ("options", "-c statement_timeout=\(statementTimeout) -c client_min_messages=warning"),
        ]
        keywords = defaults.map(\.0) + ["dbname"]
        values = defaults.map(\.1) + [url]
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    /// Connects, or connects again when the connection is broken.
    func ensureConnected() throws(PostgresError) {
        if let handle, PQstatus(handle) == CONNECTION_OK { return }
        if let handle { PQfinish(handle) }
        handle = nil
        let connection = withCStrings(keywords) { keywordPointers in
            withCStrings(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let connection else { throw .connection("libpq could not allocate a connection") }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.message(PQerrorMessage(connection))
            PQfinish(connection)
            throw .connection(message.isEmpty ? "connection failed" : message)
        }
        handle = connection
    }

    /// Runs `sql` with `parameters` (`$1`, `$2`, … in order) and returns its rows in binary
    /// format. Connects first if needed.
    @discardableResult
    func execute(_ sql: String, _ parameters: [PostgresParameter] = []) throws(PostgresError) -> PostgresRows {
        try ensureConnected()
        guard let handle else { throw .connection("not connected") }
        // Text parameters are NUL-terminated copies; bytes are passed with their length.
        var buffers: [UnsafeMutablePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        defer { for buffer in buffers { free(buffer) } }
        for parameter in parameters {
            switch parameter {
            case let .text(text):
                buffers.append(strdup(text))
                lengths.append(0)
                formats.append(0)
            case let .bytes(bytes):
                // malloc, so that `free` releases it with the text copies.
                let copy = malloc(max(bytes.count, 1))!
                bytes.withUnsafeBytes { raw in
                    if let base = raw.baseAddress { copy.copyMemory(from: base, byteCount: raw.count) }
                }
                buffers.append(copy.assumingMemoryBound(to: CChar.self))
                lengths.append(Int32(bytes.count))
                formats.append(1)
            case .null:
                buffers.append(nil)
                lengths.append(0)
                formats.append(0)
            }
        }
        let values = buffers.map { UnsafePointer($0) }
        let result = PQexecParams(handle, sql, Int32(parameters.count), nil, values, lengths, formats, 1)
        defer { PQclear(result) }
        guard let result else {
            throw PQstatus(handle) == CONNECTION_OK
                ? .statement(sqlState: "", message: Self.message(PQerrorMessage(handle)))
                : .connection(Self.message(PQerrorMessage(handle)))
        }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK:
            break
        default:
            let message = Self.message(PQresultErrorMessage(result))
            guard PQstatus(handle) == CONNECTION_OK else { throw .connection(message) }
            let sqlState = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
            throw .statement(sqlState: sqlState, message: message)
        }
        var rows: [[[UInt8]?]] = []
        let fields = PQnfields(result)
        for row in 0..<PQntuples(result) {
            rows.append((0..<fields).map { field in
                guard PQgetisnull(result, row, field) == 0, let value = PQgetvalue(result, row, field) else { return nil }
                let length = Int(PQgetlength(result, row, field))
                return UnsafeRawBufferPointer(start: value, count: length).map { $0 }
            })
        }
        let affected = PQcmdTuples(result).map { Int(String(cString: $0)) ?? 0 } ?? 0
        return PostgresRows(rows: rows, affected: affected)
    }

    /// Runs `body` inside one transaction: committed when it returns, rolled back when it
    /// throws (a broken connection rolls back on the server by itself).
    func transaction<Value>(_ body: () throws(PostgresError) -> Value) throws(PostgresError) -> Value {
        try execute("BEGIN")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            if let handle, PQstatus(handle) == CONNECTION_OK { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    /// Waits up to `milliseconds` for notifications (`NOTIFY`) on the channels this
    /// connection listens to, and returns their payloads in the order they were sent; an
    /// empty list when none came. Throws `.connection` when the connection broke.
    func notifications(waitingUpTo milliseconds: Int32) throws(PostgresError) -> [String] {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { throw .connection("not connected") }
        var payloads = Self.pendingNotifications(handle)
        guard payloads.isEmpty else { return payloads }
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, milliseconds)
        guard ready > 0 else { return [] }
        guard PQconsumeInput(handle) == 1, PQstatus(handle) == CONNECTION_OK else {
            let message = Self.message(PQerrorMessage(handle))
            throw .connection(message.isEmpty ? "the connection was closed" : message)
        }
        payloads = Self.pendingNotifications(handle)
        return payloads
    }

    private static func pendingNotifications(_ handle: OpaquePointer) -> [String] {
        var payloads: [String] = []
        while let notification = PQnotifies(handle) {
            payloads.append(notification.pointee.extra.map { String(cString: $0) } ?? "")
            PQfreemem(notification)
        }
        return payloads
    }

    /// Whether the connection is broken (or was never made), so the next use reconnects.
    var isBroken: Bool {
        guard let handle else { return true }
        return PQstatus(handle) != CONNECTION_OK
    }

    /// libpq's message, one line, without its trailing newline.
    private static func message(_ text: UnsafeMutablePointer<CChar>?) -> String {
        guard let text else { return "" }
        return String(cString: text).split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
    }
}

/// Calls `body` with `strings` as a NULL-terminated array of C strings, valid during the call.
private func withCStrings<Result>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> Result) -> Result {
    let copies = strings.map { strdup($0) }
    defer { for copy in copies { free(copy) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
