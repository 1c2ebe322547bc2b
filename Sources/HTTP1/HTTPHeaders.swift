/// An ordered list of header (or trailer) fields with case-insensitive name lookup
/// (RFC 9110 §5.1). Order is kept because some fields' meaning depends on it, and repeated
/// names stay separate lines rather than being merged.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    /// One field line: its name as received and its value with surrounding whitespace removed.
    ///
    /// The value is kept as the octets that were sent. RFC 9110 §5.5 lets a value carry bytes
    /// above 0x7F (`obs-text`) without naming a charset, so the server treats them as opaque:
    /// decoding them as UTF-8 on the way in would replace what is not valid UTF-8 and lose the
    /// original bytes. Names are tokens (RFC 9110 §5.1), ASCII by grammar.
    public struct Field: Sendable, Hashable {
        /// The field name, in the case the sender used.
        public var name: String
        /// The field value's octets exactly as received (or as set), without leading or
        /// trailing whitespace.
        public var valueBytes: [UInt8]

        /// The field value as text: its octets read as UTF-8, with any sequence that is not
        /// UTF-8 shown as U+FFFD. Setting it stores the text's UTF-8 octets. Use `valueBytes`
        /// where the exact bytes matter.
        public var value: String {
            get { String(decoding: valueBytes, as: UTF8.self) }
            set { valueBytes = Array(newValue.utf8) }
        }

        /// A field from its name and textual value (stored as its UTF-8 octets).
        public init(name: String, value: String) {
            self.name = name
            valueBytes = Array(value.utf8)
        }

        /// A field from its name and the octets of its value.
        public init(name: String, valueBytes: [UInt8]) {
            self.name = name
            self.valueBytes = valueBytes
        }
    }

    private var fields: [Field]

    /// An empty list.
    public init() {
        fields = []
    }

    /// Fields in the given order.
    public init(_ fields: [(String, String)]) {
        self.fields = fields.map { Field(name: $0.0, value: $0.1) }
    }

    /// Fields in literal order: `["Content-Type": "text/plain"]`.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    /// The number of field lines.
    public var count: Int {
        fields.count
    }

    /// Whether there are no fields at all.
    public var isEmpty: Bool {
        fields.isEmpty
    }

    /// The first value of the field with this name, compared case-insensitively.
    public subscript(name: String) -> String? {
        fields.first { $0.name.equalsIgnoringASCIICase(name) }?.value
    }

    /// The octets of the first value of the field with this name, compared case-insensitively.
    public func valueBytes(for name: String) -> [UInt8]? {
        fields.first { $0.name.equalsIgnoringASCIICase(name) }?.valueBytes
    }

    /// Every value of the fields with this name, in order.
    public func values(for name: String) -> [String] {
        fields.filter { $0.name.equalsIgnoringASCIICase(name) }.map(\.value)
    }

    /// Whether a field with this name is present.
    public func contains(_ name: String) -> Bool {
        fields.contains { $0.name.equalsIgnoringASCIICase(name) }
    }

    /// Appends a field line, keeping any existing ones of the same name.
    public mutating func add(name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// Appends a field line whose value is given as octets, keeping any existing ones of the
    /// same name.
    public mutating func add(name: String, valueBytes: [UInt8]) {
        fields.append(Field(name: name, valueBytes: valueBytes))
    }

    /// Replaces every field of this name with a single one (appended if none was present).
    public mutating func set(name: String, value: String) {
        if let first = fields.firstIndex(where: { $0.name.equalsIgnoringASCIICase(name) }) {
            fields[first].value = value
            var index = fields.index(after: first)
            while index < fields.endIndex {
                if fields[index].name.equalsIgnoringASCIICase(name) {
                    fields.remove(at: index)
                } else {
                    index = fields.index(after: index)
                }
            }
        } else {
            add(name: name, value: value)
        }
    }

    /// Removes every field of this name.
    public mutating func remove(name: String) {
        fields.removeAll { $0.name.equalsIgnoringASCIICase(name) }
    }

    public func makeIterator() -> IndexingIterator<[Field]> {
        fields.makeIterator()
    }
}

extension String {
    /// Compares two strings byte by byte, folding only ASCII letters: field names, methods of
    /// other case and tokens such as `chunked` are ASCII by grammar (RFC 9110 §5.1, §5.6.2).
    ///
    /// Names differ in length or in their first bytes far more often than not, and this runs
    /// for every header of every response, so the bytes are compared through their
    /// contiguous storage rather than by iterating both views.
    func equalsIgnoringASCIICase(_ other: String) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        let compared: Bool?? = utf8.withContiguousStorageIfAvailable { lhs in
            other.utf8.withContiguousStorageIfAvailable { rhs in Self.bytesEqualIgnoringASCIICase(lhs, rhs) }
        }
        if let compared, let compared { return compared }
        return zip(utf8, other.utf8).allSatisfy(Self.bytesEqualIgnoringASCIICase)
    }

    /// Whether two byte runs of the same length are equal, folding only ASCII letters.
    private static func bytesEqualIgnoringASCIICase(_ lhs: UnsafeBufferPointer<UInt8>, _ rhs: UnsafeBufferPointer<UInt8>) -> Bool {
        lhs.indices.allSatisfy { bytesEqualIgnoringASCIICase(lhs[$0], rhs[$0]) }
    }

    /// Whether two bytes are equal, folding only ASCII letters.
    private static func bytesEqualIgnoringASCIICase(_ a: UInt8, _ b: UInt8) -> Bool {
        a == b || HTTPSyntax.lowercased(a) == HTTPSyntax.lowercased(b)
    }
}
