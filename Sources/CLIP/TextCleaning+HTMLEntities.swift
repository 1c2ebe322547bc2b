extension TextCleaning {
    /// HTML named character references: name (with its `;` where the standard has one) to
    /// the code points it stands for, parsed once from `Resources/html-entities.txt` (written
    /// by `tools/make_html_entity_table.py`, compiled into the binary as a SwiftPM resource).
    static let htmlNamedReferences: [String: [Unicode.Scalar]] = parseEntityListing(PackageResources.html_entities_txt)

    /// Parses lines of `name hex hex…`, skipping `#` comment lines.
    private static func parseEntityListing(_ listing: [UInt8]) -> [String: [Unicode.Scalar]] {
        var table: [String: [Unicode.Scalar]] = [:]
        for line in listing.split(separator: UInt8(ascii: "\n")) where line.first != UInt8(ascii: "#") {
            let fields = line.split(separator: UInt8(ascii: " ")).map { String(decoding: $0, as: UTF8.self) }
            let scalars = fields.dropFirst().compactMap { UInt32($0, radix: 16).flatMap(Unicode.Scalar.init) }
            table[fields[0]] = scalars
        }
        return table
    }
}
