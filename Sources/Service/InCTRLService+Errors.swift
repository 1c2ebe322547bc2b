import Imaging
import InCTRL

/// The one place where the errors of the lower layers (registry, store, model, decoders)
/// become API errors, with their status and code.
extension InCTRLService {
    /// `error` as the API answers it.
    func apiError(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as ImageDecodeError:
            switch error {
            case .tooManyPixels, .encodedTooLarge, .metadataTooLarge:
                return APIError(.imageTooLarge, "\(error)")
            case .decoderFailure:
                logger.error("image decoder failure", metadata: ["error": "\(error)"])
                return APIError(.internalError, "The image decoder failed; the server log has the details.")
            default:
                return APIError(.undecodableImage, "\(error)")
            }
        case let error as PromptSetRegistryError:
            switch error {
            case .notReady: return .notReady(retryAfterSeconds: 1)
            case .invalidClassName: return APIError(.invalidField, "\(error)")
            case .noImages: return .missingField("images")
            case .tooManyImages: return APIError(.tooManyImages, "\(error)")
            case .emptyImage: return APIError(.undecodableImage, "\(error)")
            case .imageTooLarge: return APIError(.imageTooLarge, "\(error)")
            case .full: return APIError(.tooManyPromptSets, "\(error)")
            case let .notFound(id): return .unknownPromptSet(id.hex)
            case .tooManyCalibrationImages: return APIError(.tooManyImages, "\(error)")
            case .invalidThreshold: return APIError(.invalidThreshold, "\(error)")
            }
        case let error as PromptSetStoreError:
            switch error {
            case .notOpen: return .notReady(retryAfterSeconds: 1)
            case let .notFound(id): return .unknownPromptSet(id.hex)
            case let .unavailable(reason):
                logger.error("prompt-set store unavailable", metadata: ["error": "\(reason)"])
                return APIError(
                    .storeUnavailable, "The prompt-set database cannot be reached; nothing was changed. Retry later.",
                    retryAfterSeconds: configuration.retryAfterSeconds)
            case .damaged, .fileSystem, .alreadyOpen, .dataDirectoryUnusable, .featureCache, .database:
                logger.error("prompt-set store failure", metadata: ["error": "\(error)"])
                return APIError(.internalError, "The prompt-set store failed; the server log has the details.")
            }
        case is ModelActor.AdmissionError:
            metrics.recordRejection(.queueFull)
            return .queueFull(retryAfterSeconds: configuration.retryAfterSeconds)
        case is CancellationError:
            return APIError(.internalError, "The request was cancelled.")
        default:
            logger.error("internal error", metadata: ["error": "\(error)"])
            return APIError(.internalError, "The server failed to process the request; the server log has the details.")
        }
    }
}
