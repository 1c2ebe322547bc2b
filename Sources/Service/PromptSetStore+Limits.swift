extension PromptSetStore {
    /// Bounds on what the store accepts, so that one client cannot fill the disk or memory.
    public struct Limits: Sendable, Equatable {
        /// The most prompt sets held at once; registering one more fails with
        /// ``PromptSetStoreError/storeFull(limit:)``.
        public var maxSets: Int
        /// The most images in one set. InCTRL is evaluated with 2, 4 and 8 shots.
        public var maxImagesPerSet: Int
        /// The largest single image, in bytes, as received.
        public var maxImageBytes: Int
        /// The longest class name, in UTF-8 bytes; the text tower reads at most 77 tokens.
        public var maxClassNameBytes: Int

        /// Limits with safe defaults: 1000 sets of at most 64 images of at most 32 MiB each,
        /// class names of at most 256 bytes.
        public init(maxSets: Int = 1000, maxImagesPerSet: Int = 64, maxImageBytes: Int = 32 << 20, maxClassNameBytes: Int = 256) {
            self.maxSets = maxSets
            self.maxImagesPerSet = maxImagesPerSet
            self.maxImageBytes = maxImageBytes
            self.maxClassNameBytes = maxClassNameBytes
        }
    }
}
