import InCTRL

/// The body of `POST /score` (`openapi.yaml`'s `ScoreResponse`), also printed per file by
/// `inctrl score`.
public struct ScoreResponse: Encodable, Sendable {
    /// The residual map on the patch grid, row-major.
    public struct ResidualMap: Encodable, Sendable {
        public let width: Int
        public let height: Int
        public let values: [Float]
    }

    /// Milliseconds spent in each step of the request.
    public struct TimingMilliseconds: Encodable, Sendable {
        public let decode: Double
        public let preprocess: Double
        public let queue: Double
        public let forward: Double
        public let total: Double

        /// Rounded to microseconds, which is all a timing this coarse can claim.
        public init(decode: Double, preprocess: Double, queue: Double, forward: Double, total: Double) {
            func milliseconds(_ seconds: Double) -> Double { (seconds * 1e6).rounded() / 1e3 }
            self.decode = milliseconds(decode)
            self.preprocess = milliseconds(preprocess)
            self.queue = milliseconds(queue)
            self.forward = milliseconds(forward)
            self.total = milliseconds(total)
        }
    }

    /// The scored file (command line only; absent in HTTP responses).
    public let file: String?
    /// The prompt set's id.
    public let promptSet: String
    /// The anomaly score, `(s_h + s_p) / 2`.
    public let score: Float
    /// `patch`, `image`, `text`, `holistic`.
    public let components: ScoreComponents
    /// The 15×15 patch residual map.
    public let residualMap: ResidualMap
    /// Name, precision, demo flag.
    public let model: ModelInfo
    /// Where the time went, in milliseconds (timings given in seconds).
    public let timingMs: TimingMilliseconds
    /// Pass or reject, with the threshold used.
    public let decision: Decision
    /// The regions of the image above the set's pixel threshold, and the fraction of the
    /// image they cover (set when the set has a pixel threshold).
    public var regions: [AnomalyRegionBody]?
    public var anomalousAreaFraction: Double?
    /// The heat-map and the region mask as PNG, base64 (`include=heatmap`, `include=mask`).
    public var heatmapPNG: String?
    public var maskPNG: String?

    enum CodingKeys: String, CodingKey {
        case file, score, components, model, decision, regions
        case promptSet = "prompt_set", residualMap = "residual_map", timingMs = "timing_ms"
        case anomalousAreaFraction = "anomalous_area_fraction", heatmapPNG = "heatmap_png", maskPNG = "mask_png"
    }

    /// A response for `result`; `gridSize` is the patch grid's side (15).
    public init(
        file: String? = nil, promptSet: String, result: InCTRLScore, gridSize: Int, model: ModelInfo,
        timing: TimingMilliseconds, decision: Decision
    ) {
        self.file = file
        self.promptSet = promptSet
        score = result.score
        components = result.components
        residualMap = ResidualMap(width: gridSize, height: gridSize, values: result.residualMap)
        self.model = model
        timingMs = timing
        self.decision = decision
    }
}
