import InCTRL
import Synchronization

/// Query images that have passed the model queue's check and are being decoded, counted
/// against the queue's capacity beside the queries the model already holds.
///
/// The model queue admits a query only once its image is decoded (`ModelActor` counts what
/// waits for or runs on the compute thread). Checking only the queue before decoding let any
/// number of requests pass while the queue still had room, all decode, and most then find it
/// full: under a flood that decoding is work thrown away, taken from the forwards, and it
/// delays the queries that would fit. Counting the images being decoded refuses those
/// requests from their head instead (`429 queue_full`), so at most `capacity` images are
/// decoded or queued at once.
final class DecodingQueries: Sendable {
    private let count = Atomic<Int>(0)

    /// Images being decoded now.
    var current: Int { count.load(ordering: .relaxed) }

    /// Whether `model`'s queue has room for `images` more beside those it holds and those
    /// being decoded.
    func haveRoom(for images: Int, in model: ModelActor) -> Bool {
        model.queueDepth + current + images <= model.capacity
    }

    /// Takes places for `images` images about to be decoded, all or none; nil when they do
    /// not fit (the caller answers `queue_full`). The places are given back when the
    /// reservation ends: by `release()` once the images are decoded, or at the end of its
    /// scope when decoding throws.
    func reserve(_ images: Int, in model: ModelActor) -> Reservation? {
        let taken = count.add(images, ordering: .relaxed).newValue
        guard model.queueDepth + taken <= model.capacity else {
            count.subtract(images, ordering: .relaxed)
            return nil
        }
        return Reservation(owner: self, images: images)
    }

    /// Places held by images being decoded.
    struct Reservation: ~Copyable {
        fileprivate let owner: DecodingQueries
        fileprivate let images: Int

        /// Gives the places back now (the images are about to count in the model queue).
        consuming func release() {}

        deinit {
            owner.count.subtract(images, ordering: .relaxed)
        }
    }
}
