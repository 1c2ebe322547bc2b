/// A Python `ssl` client the TLS tests drive: `python3 -c <source> PORT ALPN MODE`.
///
/// It connects to 127.0.0.1:PORT without verifying the certificate, offering the
/// comma-separated ALPN protocols (`-` for none), and prints
/// `alpn=… version=… peer=<SHA-256 of the server's certificate>`, or `handshake-failed …`.
/// In mode `requests` it then sends `GET <line>` for each line of its input on the one
/// connection and prints `status=… body=…` per response. In mode `abort-body` it sends a
/// request head and part of the body, then resets the connection.
enum TLSClientScript {
    static func arguments(port: Int, alpn: [String] = [], mode: String = "requests") -> [String] {
        ["python3", "-c", source, String(port), alpn.isEmpty ? "-" : alpn.joined(separator: ","), mode]
    }

    static let source = """
        import hashlib, socket, ssl, struct, sys
        port, alpn, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        if alpn != '-':
            context.set_alpn_protocols(alpn.split(','))
        try:
            connection = context.wrap_socket(socket.create_connection(('127.0.0.1', port), timeout=10), server_hostname='localhost')
        except (ssl.SSLError, OSError) as error:
            print('handshake-failed', type(error).__name__, error, flush=True)
            sys.exit(0)
        peer = hashlib.sha256(connection.getpeercert(binary_form=True)).hexdigest()
        print('alpn=%s version=%s peer=%s' % (connection.selected_alpn_protocol(), connection.version(), peer), flush=True)
        if mode == 'abort-body':
            connection.sendall(b'POST /upload HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 100\\r\\n\\r\\n0123456789')
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            connection.close()
            print('aborted', flush=True)
            sys.exit(0)
        reader = connection.makefile('rb')
        while True:
            path = sys.stdin.readline().strip()
            if not path:
                break
            connection.sendall(('GET %s HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n' % path).encode())
            status = reader.readline().split()[1].decode()
            length = 0
            while True:
                header = reader.readline()
                if header in (b'\\r\\n', b''):
                    break
                name, _, value = header.decode().partition(':')
                if name.strip().lower() == 'content-length':
                    length = int(value)
            print('status=%s body=%s' % (status, reader.read(length).decode()), flush=True)
        """
}
