import Foundation
import Tensor
@testable import Service

/// Image bytes and scratch directories for the store and cache tests. The store keeps
/// bytes as received, so images only need the right signature and distinct content.
enum PromptSetTestData {
    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// `count` bytes starting with the PNG signature, the rest drawn from `seed`.
    static func png(seed: UInt64, count: Int = 2048) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        return pngSignature + (0..<(count - pngSignature.count)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// `shots` distinct images for set number `set`.
    static func images(set: UInt64, shots: Int = 3, count: Int = 2048) -> [[UInt8]] {
        (0..<UInt64(shots)).map { png(seed: set * 1000 + $0, count: count) }
    }

    /// A fresh, empty directory under the system's temporary directory.
    static func scratchDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A data directory with an open store over it, removed with the test.
final class OpenedStore {
    let dataDirectory: URL
    let store: PromptSetStore

    init(limits: PromptSetStore.Limits = PromptSetStore.Limits()) throws {
        dataDirectory = try PromptSetTestData.scratchDirectory("prompt-set-store")
        store = PromptSetStore(dataDirectory: dataDirectory, limits: limits)
        try store.open()
    }

    deinit { try? FileManager.default.removeItem(at: dataDirectory) }

    /// A second store over the same directory, as after a restart.
    func reopened(limits: PromptSetStore.Limits = PromptSetStore.Limits()) throws -> (PromptSetStore, PromptSetStore.LoadReport) {
        let store = PromptSetStore(dataDirectory: dataDirectory, limits: limits)
        let report = try store.open()
        return (store, report)
    }

    func setDirectory(_ id: PromptSetID) -> URL {
        dataDirectory.appendingPathComponent("prompt-sets").appendingPathComponent(id.hex)
    }
}
