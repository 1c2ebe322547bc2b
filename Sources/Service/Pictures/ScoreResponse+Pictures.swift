import Foundation

extension ScoreResponse {
    /// This response with the regions and the pictures (as base64) of `pictures`.
    public func including(_ pictures: ScorePictures) -> ScoreResponse {
        var response = self
        response.regions = pictures.regions
        response.anomalousAreaFraction = pictures.anomalousAreaFraction
        response.heatmapPNG = pictures.heatmapPNG.map { Data($0).base64EncodedString() }
        response.maskPNG = pictures.maskPNG.map { Data($0).base64EncodedString() }
        return response
    }
}
