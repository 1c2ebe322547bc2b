/// Draws an `AnomalyField` over the original picture: the image an inspection operator reads.
///
/// Colour is blended over the image only where the model looked (`AnomalyField.dataRegion`);
/// elsewhere the original pixels are left untouched, so "no colour" means "not inspected"
/// rather than "normal".
public struct HeatMapRenderer: Sendable {
    /// The colour scale residuals are drawn in.
    public let colorMap: ColorMap
    /// How much of the colour covers the image, from 0 (image only) to 1 (colour only).
    public let opacity: Float

    /// A renderer; `opacity` must lie in [0, 1].
    public init(colorMap: ColorMap = .inferno, opacity: Float = 0.5) throws(HeatMapError) {
        guard opacity >= 0, opacity <= 1 else { throw .invalidOpacity(opacity) }
        self.colorMap = colorMap
        self.opacity = opacity
    }

    /// The original `image` with the field's colour blended over its data region.
    ///
    /// `scaleMax` is the residual drawn in the colour map's top colour; values are clamped to
    /// [0, scaleMax]. A fixed scale (e.g. a prompt set's threshold times a margin) keeps
    /// colours comparable across images, where scaling each image to its own maximum would
    /// paint a normal part as alarmingly as a defective one.
    public func render(_ field: AnomalyField, over image: RGB8Image, scaleMax: Float) throws(HeatMapError) -> RGB8Image {
        guard image.width == field.width, image.height == field.height else {
            throw .sizeMismatch(fieldWidth: field.width, fieldHeight: field.height, imageWidth: image.width, imageHeight: image.height)
        }
        guard scaleMax.isFinite, scaleMax > 0 else { throw .invalidScale(scaleMax) }

        let tints = tintTable()
        let lastLevel = Float(tints.count / 3 - 1)
        let kept = 1 - opacity
        let width = field.width
        var pixels = image.pixels
        pixels.withUnsafeMutableBufferPointer { pixels in
            field.values.withUnsafeBufferPointer { values in
                for y in field.dataRegion.rows {
                    for x in field.dataRegion.columns {
                        let value = values[y * width + x]
                        let position = value > 0 ? min(value / scaleMax, 1) : 0
                        let tint = Int(position * lastLevel + 0.5) * 3
                        let pixel = (y * width + x) * 3
                        for channel in 0..<3 {
                            let blended = Float(pixels[pixel + channel]) * kept + tints[tint + channel] + 0.5
                            pixels[pixel + channel] = UInt8(min(blended, 255))
                        }
                    }
                }
            }
        }
        return RGB8Image(validatedWidth: image.width, height: image.height, pixels: pixels)
    }

    /// `opacity × colour × 255` for 1024 evenly spaced positions, R G B each: finer than
    /// 8-bit output can show, and a table lookup instead of an interpolation per pixel.
    private func tintTable() -> [Float] {
        let levels = 1024
        var table = [Float](repeating: 0, count: levels * 3)
        for level in 0..<levels {
            let color = colorMap.color(at: Float(level) / Float(levels - 1)) * (opacity * 255)
            table[level * 3] = color.x
            table[level * 3 + 1] = color.y
            table[level * 3 + 2] = color.z
        }
        return table
    }
}
