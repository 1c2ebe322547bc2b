import CLIP
import Foundation
import Tensor

/// Writes a copy of the fixture's weights with one tensor removed or reshaped, to check that
/// loading names the offending key.
enum WeightsFileEditor {
    enum Edit {
        case remove(String)
        case reshape(String, to: [Int])
    }

    /// A temporary safetensors file: the fixture's weights with `edit` applied.
    static func editedCopy(of source: SafeTensorsFile, _ edit: Edit) throws -> SafeTensorsFile {
        var writer = SafeTensorsWriter()
        for entry in source.entries {
            var shape = entry.shape
            switch edit {
            case let .remove(key) where key == entry.name:
                continue
            case let .reshape(key, newShape) where key == entry.name:
                shape = newShape
            default:
                break
            }
            var values = try source.floats(entry.name)
            values += [Float](repeating: 0, count: max(0, shape.reduce(1, *) - values.count))
            writer.add(entry.name, shape: shape, floats: Array(values.prefix(shape.reduce(1, *))))
        }
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("clip-weights-\(UUID().uuidString).safetensors")
        try writer.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return try SafeTensorsFile(contentsOf: url)
    }
}
