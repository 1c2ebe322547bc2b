import InCTRL

extension InCTRLScore {
    /// s_p, s_i, s_a, s_h and the final score: the order of the reference's `scores.*` tensors.
    var inReferenceOrder: [Float] {
        [components.patch, components.image, components.text, components.holistic, score]
    }
}
