import Foundation
import Testing
@testable import Service
#if canImport(Glibc)
import Glibc
#endif

/// Crashes of a real process in the middle of a write: at each named fault point, and at
/// arbitrary moments by `SIGKILL`. A restart must find the old state or the new one, never
/// a torn set, and nothing quarantined.
@Suite struct PromptSetStoreFaultPointTests {
    static let oldImages = PromptSetTestData.images(set: 80)
    static let newImages = PromptSetTestData.images(set: 81)

    @Test(arguments: StoreFaultPoint.allCases)
    func crashAtAFaultPointLeavesTheOldOrTheNewState(_ point: StoreFaultPoint) async throws {
        let fixture = try await OpenedStore()
        let old = try await fixture.store.save(className: "capsule", images: Self.oldImages).record
        let deleting = point == .afterTrashRename

        await #expect(processExitsWith: .exitCode(137)) { [path = fixture.dataDirectory.path as String, point = point.rawValue as String, deleting = deleting as Bool] in
            setenv(StoreFaultPoint.environmentVariable, point, 1)
            let store = FileStore(dataDirectory: URL(fileURLWithPath: path))
            try await store.open()
            if deleting {
                _ = try await store.delete(PromptSetID(className: "capsule", images: PromptSetStoreFaultPointTests.oldImages))
            } else {
                _ = try await store.save(className: "capsule", images: PromptSetStoreFaultPointTests.newImages)
            }
        }

        let (store, report) = try await fixture.reopened()
        #expect(report.quarantined.isEmpty)
        let newID = PromptSetID(className: "capsule", images: Self.newImages)
        switch point {
        case .afterImageWrite, .afterManifestWrite, .beforeRename:
            #expect(report.loaded == [old])
            #expect(report.leftovers.map(\.name.first) == ["."])
            #expect(throws: PromptSetStoreError.notFound(newID)) { try store.record(newID) }
        case .afterRename:
            #expect(Set(report.loaded.map(\.id)) == [old.id, newID])
            #expect(report.leftovers.isEmpty)
            #expect(try await store.imageBytes(newID) == Self.newImages)
        case .afterTrashRename:
            #expect(report.loaded.isEmpty)
            #expect(report.leftovers.map { $0.name.hasPrefix(".trash-") } == [true])
        }
        if !deleting { #expect(try await store.imageBytes(old.id) == Self.oldImages) }
        let remaining = try FileManager.default.contentsOfDirectory(atPath: fixture.dataDirectory.appendingPathComponent("prompt-sets").path)
        #expect(Set(remaining) == Set(report.loaded.map(\.id.hex)))
    }

    @Test(arguments: [30, 120, 300, 600])
    func killedAtAnyMomentTheStoreStaysWhole(afterMilliseconds delay: Int) async throws {
        let fixture = try await OpenedStore()
        await #expect(processExitsWith: .signal(SIGKILL)) { [path = fixture.dataDirectory.path as String, delay = delay as Int] in
            let store = FileStore(dataDirectory: URL(fileURLWithPath: path))
            try await store.open()
            Thread.detachNewThread {
                usleep(useconds_t(delay * 1000))
                kill(getpid(), SIGKILL)
            }
            // Register and delete sets until killed; every other set is kept. The images
            // differ only in their set number, so making them costs next to nothing.
            let base = PromptSetTestData.images(set: 90, shots: 4, count: 32 * 1024)
            for set in 0..<100_000 {
                let images = base.map { image in
                    var image = image
                    withUnsafeBytes(of: set) { image.replaceSubrange(8..<16, with: $0) }
                    return image
                }
                let record = try await store.save(className: "toothbrush", images: images).record
                if set % 2 == 1 { _ = try await store.delete(record.id) }
            }
        }

        let (store, report) = try await fixture.reopened()
        #expect(report.quarantined.isEmpty)
        #expect(report.leftovers.count <= 1)
        for record in report.loaded {
            #expect(try await store.imageBytes(record.id).count == 4)
        }
    }
}
