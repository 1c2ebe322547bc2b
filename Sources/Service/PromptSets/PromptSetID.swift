import Foundation
import Tensor

/// The identity of a prompt set, derived from its content: the same class name and the same
/// image bytes in the same order always give the same id, so registering a set twice finds
/// the first registration instead of storing a copy.
///
/// The id is the first 32 hex digits (128 bits) of a SHA-256 over a versioned,
/// length-prefixed encoding of the class name's UTF-8 bytes and every image's bytes, so no two
/// different sets share an encoding. The class name is taken byte for byte as received:
/// names that differ only in Unicode normalisation are different sets.
///
/// An id parsed from text is exactly 32 lowercase hex digits, which also makes it safe to
/// use as a directory or file name.
public struct PromptSetID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The number of hex digits in an id.
    public static let hexDigitCount = 32

    /// The id as 32 lowercase hex digits.
    public let hex: String

    /// Parses an id from a URL segment, a directory name or JSON; nil unless `text` is
    /// exactly 32 characters of `0-9a-f`.
    public init?(_ text: some StringProtocol) {
        let utf8 = text.utf8
        guard utf8.count == Self.hexDigitCount, utf8.allSatisfy(Self.isLowercaseHexDigit) else { return nil }
        hex = String(text)
    }

    /// The id of a prompt set with this class name and these images, in this order.
    public init(className: String, images: [[UInt8]]) {
        var digest = Digest(className: className, imageCount: images.count)
        for image in images { digest.add(image: image) }
        self = digest.finish()
    }

    public var description: String { hex }

    public static func < (lhs: PromptSetID, rhs: PromptSetID) -> Bool { lhs.hex < rhs.hex }

    private static func isLowercaseHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}

extension PromptSetID: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = PromptSetID(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not a prompt set id (32 lowercase hex digits)")
        }
        self = id
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

extension PromptSetID {
    /// Computes an id one image at a time, so a stored set can be verified without holding
    /// all of its images in memory.
    struct Digest: ~Copyable {
        /// Names the encoding; a new encoding gets a new tag and therefore new ids.
        private static let encodingTag = Array("inctrl-prompt-set-id/1\n".utf8)

        private var sha = SHA256()
        private let expectedImages: Int
        private var addedImages = 0

        /// Starts the encoding: tag, class name, and how many images will follow.
        init(className: String, imageCount: Int) {
            expectedImages = imageCount
            sha.update(Self.encodingTag)
            let name = Array(className.utf8)
            addLength(name.count)
            sha.update(name)
            addLength(imageCount)
        }

        /// Adds the next image's bytes, prefixed by their length.
        mutating func add(image: some ContiguousBytes) {
            image.withUnsafeBytes { raw in
                addLength(raw.count)
                sha.update(raw)
            }
            addedImages += 1
        }

        /// The id; every announced image must have been added.
        consuming func finish() -> PromptSetID {
            precondition(addedImages == expectedImages, "a prompt set id was finished after \(addedImages) of \(expectedImages) images")
            return PromptSetID(uncheckedHex: String(sha.hexDigest().prefix(PromptSetID.hexDigitCount)))
        }

        private mutating func addLength(_ length: Int) {
            withUnsafeBytes(of: UInt64(length).littleEndian) { sha.update($0) }
        }
    }

    private init(uncheckedHex: String) {
        hex = uncheckedHex
    }
}
