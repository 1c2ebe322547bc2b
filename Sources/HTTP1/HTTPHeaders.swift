/// An ordered list of header (or trailer) fields with case-insensitive name lookup
/// (RFC 9110 §5.1). Order is kept because some fields' meaning depends on it, and repeated
/// names stay separate lines rather than being merged.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    /// One field line: its name as received and its value with surrounding whitespace removed.
    public struct Field: Sendable, Hashable {
        /// The field name, in the case the sender used.
        public var name: String
        /// The field value, without leading or trailing whitespace.
        public var value: String

        /// A field from its name and value.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
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
    func equalsIgnoringASCIICase(_ other: String) -> Bool {
        let lhs = utf8
        let rhs = other.utf8
        guard lhs.count == rhs.count else { return false }
        for (a, b) in zip(lhs, rhs) where a != b {
            guard HTTPSyntax.lowercased(a) == HTTPSyntax.lowercased(b) else { return false }
        }
        return true
    }
}
