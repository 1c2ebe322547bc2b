import Foundation
import Testing

/// The real `inctrl` refuses bf16 on a CPU without native bf16 multiplication, at start and
/// with a message naming the setting, instead of serving it slowly. The CPU is made to look
/// like one without bf16 by capping oneDNN's instruction set (`ONEDNN_MAX_CPU_ISA`).
@Suite struct ServePrecisionTests {
    static let capped = ["ONEDNN_MAX_CPU_ISA": "AVX512_CORE"]

    @Test func serveRefusesBF16WithoutNativeSupport() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("precision-data-\(UUID().uuidString)")
        let (succeeded, _, output) = try ServerProcess.run(["serve"], environment: Self.capped.merging([
            "INCTRL_MODEL": try ServerCrashTests.bundle.get().path, "INCTRL_DATA_DIR": data.path, "INCTRL_PORT": "0",
            "INCTRL_PRECISION": "bf16",
        ]) { $1 })
        #expect(!succeeded)
        #expect(output.contains("'precision' (from environment variable INCTRL_PRECISION) is bf16"), "\(output)")
        #expect(output.contains("this CPU offers avx"), "\(output)")
        #expect(!FileManager.default.fileExists(atPath: data.path), "the store was opened before the configuration was checked")
    }

    @Test func scoreRefusesBF16WithoutNativeSupport() throws {
        let cell = ServerCrashTests.repository.appendingPathComponent("Tests/Fixtures/imaging/inputs/png_elpv_cell0004_functional.png").path
        let arguments = ["score", "--model", try ServerCrashTests.bundle.get().path, "--prompt", cell, "--precision", "bf16", cell]
        let (succeeded, _, output) = try ServerProcess.run(arguments, environment: Self.capped)
        #expect(!succeeded)
        #expect(output.contains("precision 'bf16' needs a CPU that multiplies bf16 natively"), "\(output)")
        #expect(output.contains("this one offers avx"), "\(output)")
    }
}
