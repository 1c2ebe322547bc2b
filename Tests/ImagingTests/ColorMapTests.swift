#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import Imaging

@Suite("ColorMap")
struct ColorMapTests {
    /// Relative luminance (ITU-R BT.709 weights) of an sRGB colour, after undoing the sRGB
    /// transfer curve: what "perceived lightness increases" is measured by.
    static func luminance(_ color: SIMD3<Float>) -> Double {
        func linear(_ component: Float) -> Double {
            let value = Double(component)
            return value <= 0.04045 ? value / 12.92 : pow((value + 0.055) / 1.055, 2.4)
        }
        return 0.2126 * linear(color.x) + 0.7152 * linear(color.y) + 0.0722 * linear(color.z)
    }

    @Test("inferno's lightness rises strictly over 256 steps")
    func lightnessIsMonotonic() {
        let lightness = (0..<256).map { Self.luminance(ColorMap.inferno.color(at: Float($0) / 255)) }
        for step in 1..<256 {
            #expect(lightness[step] > lightness[step - 1], "step \(step)")
        }
    }

    @Test("the ends are inferno's first and last colours; outside [0, 1] clamps to them")
    func endpoints() {
        let first = SIMD3<Float>(0.001462, 0.000466, 0.013866)
        let last = SIMD3<Float>(0.988362, 0.998364, 0.644924)
        #expect(ColorMap.inferno.color(at: 0) == first)
        #expect(ColorMap.inferno.color(at: 1) == last)
        #expect(ColorMap.inferno.color(at: -0.5) == first)
        #expect(ColorMap.inferno.color(at: .nan) == first)
        #expect(ColorMap.inferno.color(at: 7) == last)
    }

    /// Entries 64, 128 and 192 of matplotlib's `_inferno_data`, none of them a control point.
    @Test("between control points the colour stays within 1/255 of matplotlib's full table",
          arguments: [(64, SIMD3<Float>(0.341500, 0.062325, 0.429425)),
                      (128, SIMD3<Float>(0.735683, 0.215906, 0.330245)),
                      (192, SIMD3<Float>(0.978422, 0.557937, 0.034931))])
    func matchesPublishedTable(_ entry: (index: Int, color: SIMD3<Float>)) {
        let color = ColorMap.inferno.color(at: Float(entry.index) / 255)
        let difference = color - entry.color
        let largest = max(abs(difference.x), abs(difference.y), abs(difference.z))
        #expect(largest <= 1 / 255, "entry \(entry.index): \(color) against \(entry.color)")
    }
}
