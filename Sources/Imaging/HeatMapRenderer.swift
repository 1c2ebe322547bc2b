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
    /// The scale position below which the colour fades out, linearly to none at 0, so that
    /// normal parts keep their own look and only what approaches the scale's middle glows;
    /// 0 colours every value at full `opacity`.
    public let fadeBelow: Float

    /// A renderer; `opacity` and `fadeBelow` must lie in [0, 1].
    public init(colorMap: ColorMap = .inferno, opacity: Float = 0.5, fadeBelow: Float = 0) throws(HeatMapError) {
        guard opacity >= 0, opacity <= 1 else { throw .invalidOpacity(opacity) }
        guard fadeBelow >= 0, fadeBelow <= 1 else { throw .invalidOpacity(fadeBelow) }
        self.colorMap = colorMap
        self.opacity = opacity
        self.fadeBelow = fadeBelow
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

        let (tints, kept) = tintTable()
        let lastLevel = Float(tints.count / 3 - 1)
        let width = field.width
        var pixels = image.pixels
        pixels.withUnsafeMutableBufferPointer { pixels in
            field.values.withUnsafeBufferPointer { values in
                for y in field.dataRegion.rows {
                    for x in field.dataRegion.columns {
                        let value = values[y * width + x]
                        let position = value > 0 ? min(value / scaleMax, 1) : 0
                        let level = Int(position * lastLevel + 0.5)
                        let tint = level * 3
                        let pixel = (y * width + x) * 3
                        for channel in 0..<3 {
                            let blended = Float(pixels[pixel + channel]) * kept[level] + tints[tint + channel] + 0.5
                            pixels[pixel + channel] = UInt8(min(blended, 255))
                        }
                    }
                }
            }
        }
        return RGB8Image(validatedWidth: image.width, height: image.height, pixels: pixels)
    }

    /// For 1024 evenly spaced positions (finer than 8-bit output can show, and a lookup
    /// instead of an interpolation per pixel): `alpha × colour × 255`, R G B each, and the
    /// share `1 − alpha` of the image kept, where alpha is `opacity`, faded below `fadeBelow`.
    private func tintTable() -> (tints: [Float], kept: [Float]) {
        let levels = 1024
        var tints = [Float](repeating: 0, count: levels * 3)
        var kept = [Float](repeating: 0, count: levels)
        for level in 0..<levels {
            let position = Float(level) / Float(levels - 1)
            let alpha = opacity * (fadeBelow > 0 ? min(1, position / fadeBelow) : 1)
            let color = colorMap.color(at: position) * (alpha * 255)
            tints[level * 3] = color.x
            tints[level * 3 + 1] = color.y
            tints[level * 3 + 2] = color.z
            kept[level] = 1 - alpha
        }
        return (tints, kept)
    }
}
