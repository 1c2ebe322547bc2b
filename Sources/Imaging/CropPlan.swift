/// Where torchvision's `Resize(size)` followed by `CenterCrop(size)` lands for one input
/// size: the full resized dimensions and the window of them that survives the crop.
///
/// Only that window is ever computed: every output pixel of Pillow's separable resize
/// depends on its own coefficients alone, so computing a subset gives identical bytes.
struct CropPlan: Equatable {
    /// The dimensions Pillow's resize would produce.
    let resizedWidth: Int
    let resizedHeight: Int
    /// The crop window's top-left corner in the resized image; the window is `size`×`size`.
    let left: Int
    let top: Int
    let size: Int

    init(width: Int, height: Int, size: Int) {
        // torchvision `_compute_resized_output_size`: the shorter side (width on ties) becomes
        // `size`, the longer one `int(size * long / short)` with a float division, truncated.
        if width <= height {
            resizedWidth = size
            resizedHeight = Int(Double(size * height) / Double(width))
        } else {
            resizedWidth = Int(Double(size * width) / Double(height))
            resizedHeight = size
        }
        // torchvision `center_crop`: int(round((extent - size) / 2.0)), Python's round
        // (half to even).
        left = Int((Double(resizedWidth - size) / 2).rounded(.toNearestOrEven))
        top = Int((Double(resizedHeight - size) / 2).rounded(.toNearestOrEven))
        self.size = size
    }

    /// Whether a resize happens at all; torchvision returns the image untouched when the
    /// target size equals the input size (so RGBA is not premultiplied either).
    func resizes(width: Int, height: Int) -> Bool {
        resizedWidth != width || resizedHeight != height
    }
}
