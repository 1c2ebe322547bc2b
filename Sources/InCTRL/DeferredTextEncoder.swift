import CLIP
import Dispatch
import Foundation
import Synchronization
import Tensor

/// The text tower and the tokenizer, loaded on a thread of their own once the rest of the
/// model is loaded.
///
/// Scoring never needs them: text priors are computed once per class name and then kept
/// (with the prompt sets, in the store). So a start does not wait for a third of the
/// model's weights and the vocabulary; the first text prior computed waits for them if
/// they are still loading. Their shapes were checked with the rest of the bundle, so the
/// load fails only if the files change or cannot be read meanwhile; that error is then
/// what every text prior throws.
final class DeferredTextEncoder: Sendable {
    /// What the thread loads.
    struct Loaded: Sendable {
        let tower: TextTower
        let tokenizer: CLIPTokenizer
    }

    private let outcome = Mutex<Result<Loaded, InCTRLError>?>(nil)
    private let finished = DispatchGroup()

    /// Starts loading with `load` on a new thread.
    init(_ load: @escaping @Sendable () throws(InCTRLError) -> Loaded) {
        finished.enter()
        let thread = Thread { [self] in
            let result: Result<Loaded, InCTRLError>
            do throws(InCTRLError) {
                result = .success(try load())
            } catch {
                result = .failure(error)
            }
            outcome.withLock { $0 = result }
            finished.leave()
        }
        thread.name = "inctrl-text-load"
        thread.start()
    }

    /// The loaded tower and tokenizer, waiting for the thread if it has not finished.
    func loaded() throws(InCTRLError) -> Loaded {
        finished.wait()
        return try outcome.withLock { $0! }.get()
    }

    /// Whether the thread has finished (loaded or failed).
    var isFinished: Bool {
        outcome.withLock { $0 != nil }
    }
}
