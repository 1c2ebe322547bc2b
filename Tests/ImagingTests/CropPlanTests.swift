import Testing
@testable import Imaging

@Suite("CropPlan")
struct CropPlanTests {
    /// Expected values from torchvision's `_compute_resized_output_size` and `center_crop`.
    @Test("matches torchvision's resize size and center-crop offsets", arguments: [
        (width: 480, height: 486, resized: (240, 243), offset: (0, 2)),    // round(1.5) = 2
        (width: 480, height: 490, resized: (240, 245), offset: (0, 2)),    // round(2.5) = 2
        (width: 485, height: 480, resized: (242, 240), offset: (1, 0)),
        (width: 301, height: 300, resized: (240, 240), offset: (0, 0)),    // int(240.8) = 240
        (width: 4000, height: 300, resized: (3200, 240), offset: (1480, 0)),
        (width: 1, height: 300, resized: (240, 72000), offset: (0, 35880)),
        (width: 1, height: 1, resized: (240, 240), offset: (0, 0)),
        (width: 1024, height: 768, resized: (320, 240), offset: (40, 0)),
        (width: 243, height: 240, resized: (243, 240), offset: (2, 0)),    // round(1.5) = 2
        (width: 245, height: 240, resized: (245, 240), offset: (2, 0)),    // round(2.5) = 2
        (width: 700, height: 701, resized: (240, 240), offset: (0, 0)),    // int(240.34) = 240
    ])
    func matchesTorchvision(_ example: (width: Int, height: Int, resized: (Int, Int), offset: (Int, Int))) {
        let plan = CropPlan(width: example.width, height: example.height, size: 240)
        #expect(plan.resizedWidth == example.resized.0 && plan.resizedHeight == example.resized.1)
        #expect(plan.left == example.offset.0 && plan.top == example.offset.1)
    }

    @Test("an image whose shorter side already fits is not resized")
    func noResizeWhenShortSideMatches() {
        #expect(!CropPlan(width: 240, height: 300, size: 240).resizes(width: 240, height: 300))
        #expect(CropPlan(width: 241, height: 300, size: 240).resizes(width: 241, height: 300))
    }
}
