/// How the samples of a decoded image are laid out, named as Pillow names its image modes so
/// that behaviour can be compared with the reference pre-processing one to one.
public enum PixelMode: String, Sendable, CaseIterable {
    /// One bit per pixel, stored one byte per pixel as 0 or 255 (Pillow mode `1`).
    case bilevel = "1"
    /// 8-bit grey (Pillow `L`).
    case gray = "L"
    /// 8-bit grey with straight alpha (Pillow `LA`).
    case grayAlpha = "LA"
    /// 8-bit palette indices into `DecodedImage.palette` (Pillow `P`).
    case palette = "P"
    /// 8-bit red, green, blue (Pillow `RGB`).
    case rgb = "RGB"
    /// 8-bit red, green, blue with straight alpha (Pillow `RGBA`).
    case rgba = "RGBA"
    /// 8-bit cyan, magenta, yellow, black in Pillow's convention (0 = no ink).
    case cmyk = "CMYK"
    /// 16-bit grey (Pillow `I;16`).
    case gray16 = "I;16"

    /// Interleaved samples per pixel.
    public var channels: Int {
        switch self {
        case .bilevel, .gray, .palette, .gray16: 1
        case .grayAlpha: 2
        case .rgb: 3
        case .rgba, .cmyk: 4
        }
    }
}
