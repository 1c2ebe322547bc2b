/// The byte classes of header syntax (RFC 9110 §5.6) that the multipart parser checks.
enum HeaderSyntax {
    /// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
    /// "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.
    static let tokenBytes: [Bool] = (0...255).map { byte in
        isAlphanumeric(UInt8(byte)) || Array("!#$%&'*+-.^_`|~".utf8).contains(UInt8(byte))
    }

    /// RFC 2046 §5.1.1: bcharsnospace = DIGIT / ALPHA / "'" / "(" / ")" / "+" / "_" / "," /
    /// "-" / "." / "/" / ":" / "=" / "?"; bchars adds the space.
    static let boundaryBytes: [Bool] = (0...255).map { byte in
        isAlphanumeric(UInt8(byte)) || Array("'()+_,-./:=? ".utf8).contains(UInt8(byte))
    }

    static func isToken(_ byte: UInt8) -> Bool { tokenBytes[Int(byte)] }

    /// RFC 9110 §5.6.3: OWS is spaces and horizontal tabs.
    static func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    /// RFC 9110 §5.5: a field value may hold visible characters, spaces, tabs and obs-text,
    /// but no other control characters.
    static func isFieldValueByte(_ byte: UInt8) -> Bool { byte >= 0x20 ? byte != 0x7F : byte == 0x09 }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }
}

