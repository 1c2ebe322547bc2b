import Foundation

/// An MVTec-style tree (docs/MODEL.md §6): `ROOT/<category>/train/good/*` holds the normal
/// images prompts are drawn from; `ROOT/<category>/test/good/*` are normal test images and
/// every other `ROOT/<category>/test/<defect>/*` folder holds anomalous ones.
public struct EvaluationDataset: Sendable {
    /// One category's files, sorted by path so runs are reproducible.
    public struct Category: Sendable {
        /// The folder name, used as the class name unless one is given.
        public let name: String
        /// Candidate prompt images.
        public let trainGood: [URL]
        /// Test images with their labels (true = anomalous).
        public let test: [(url: URL, anomalous: Bool)]
    }

    /// Why a tree cannot be evaluated.
    public enum LayoutError: Error, CustomStringConvertible {
        case notADirectory(String)
        case noCategories(String)
        case missingFolder(String)
        case noImages(String)

        public var description: String {
            switch self {
            case let .notADirectory(path): "\(path) is not a directory"
            case let .noCategories(path): "\(path) has no category folders with train/good and test/"
            case let .missingFolder(path): "\(path) is missing"
            case let .noImages(path): "\(path) holds no .png/.jpg/.jpeg files"
            }
        }
    }

    /// The categories found, sorted by name.
    public let categories: [Category]

    /// Scans `root`; `only` restricts to the named categories.
    public init(root: URL, only: Set<String>? = nil) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw LayoutError.notADirectory(root.path)
        }
        var categories: [Category] = []
        for name in try Self.subfolders(of: root) where only?.contains(name) ?? true {
            let folder = root.appendingPathComponent(name)
            let trainGood = folder.appendingPathComponent("train/good")
            let test = folder.appendingPathComponent("test")
            guard FileManager.default.fileExists(atPath: trainGood.path), FileManager.default.fileExists(atPath: test.path)
            else { continue }
            let prompts = try Self.images(in: trainGood)
            guard !prompts.isEmpty else { throw LayoutError.noImages(trainGood.path) }
            var tests: [(url: URL, anomalous: Bool)] = []
            for group in try Self.subfolders(of: test) {
                let files = try Self.images(in: test.appendingPathComponent(group))
                tests += files.map { ($0, group != "good") }
            }
            guard !tests.isEmpty else { throw LayoutError.noImages(test.path) }
            categories.append(Category(name: name, trainGood: prompts, test: tests))
        }
        guard !categories.isEmpty else { throw LayoutError.noCategories(root.path) }
        self.categories = categories
    }

    private static func subfolders(of url: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).filter { name in
            var isDirectory: ObjCBool = false
            return !name.hasPrefix(".")
                && FileManager.default.fileExists(atPath: url.appendingPathComponent(name).path, isDirectory: &isDirectory)
                && isDirectory.boolValue
        }.sorted()
    }

    private static func images(in url: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: url.path)
            .filter { ["png", "jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) }
            .sorted()
            .map { url.appendingPathComponent($0) }
    }
}
