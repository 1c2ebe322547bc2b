import Foundation
import Service

extension PostgresStore {
    /// Connects, applies missing migrations (``PostgresSchema``) and lists the stored sets;
    /// call once, before anything else.
    ///
    /// The sets' records are read from their rows without reading any image: sizes and
    /// SHA-256 are checked when images are read. A set whose rows do not make a record
    /// (image positions with a gap, an unknown media type, an id that is not one) is taken
    /// out of service as a damaged read would be, and reported in
    /// ``Service/StoreLoadReport/quarantined`` (without a location: it stays in the database).
    ///
    /// - Throws: ``Service/PromptSetStoreError/unavailable(reason:)`` when the database cannot
    ///   be reached, `.database` when it refuses the migrations, `.alreadyOpen` the second time.
    @discardableResult
    public func open() async throws(PromptSetStoreError) -> StoreLoadReport {
        try phase.withLock { phase throws(PromptSetStoreError) in
            guard phase == .closed else { throw .alreadyOpen }
            phase = .opening
        }
        do {
            let report = try await load()
            phase.withLock { $0 = .open }
            return report
        } catch {
            phase.withLock { $0 = .closed }
            throw error
        }
    }

    private func load() async throws(PromptSetStoreError) -> StoreLoadReport {
        _ = try await unchecked("migrate the schema") { connection throws(PostgresError) in try PostgresSchema.migrate(connection) }
        let (sets, images) = try await unchecked("list the prompt sets") { connection throws(PostgresError) in
            try Self.listing(connection)
        }
        var report = StoreLoadReport()
        var loaded: [PromptSetRecord] = []
        for result in Self.records(sets: sets, images: images) {
            switch result {
            case let .success(record):
                loaded.append(record)
            case let .failure(defect):
                if let id = PromptSetID(defect.name) { await quarantine(id, reason: defect.reason) }
                report.quarantined.append(StoreLoadReport.QuarantinedEntry(name: defect.name, reason: defect.reason, location: nil, moveFailure: nil))
            }
        }
        report.loaded = loaded.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        return report
    }

    /// The rows every record is made of: the sets in service (id, class name, epoch seconds,
    /// manual threshold) and their images (set, kind, position, media type, size, SHA-256).
    static func listing(_ connection: PostgresConnection) throws(PostgresError) -> (PostgresRows, PostgresRows) {
        try connection.transaction { () throws(PostgresError) -> (PostgresRows, PostgresRows) in
            // One snapshot for both, so a set registered in between is wholly in or out.
            try connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            let sets = try connection.execute(
                """
                SELECT id, class_name, extract(epoch FROM created_at)::text, manual_threshold::text
                FROM prompt_sets WHERE quarantine_reason IS NULL
                """)
            let images = try connection.execute(
                """
                SELECT i.prompt_set, i.kind, i.position::text, i.media_type, i.byte_count::text, i.sha256
                FROM prompt_set_images i JOIN prompt_sets s ON s.id = i.prompt_set
                WHERE s.quarantine_reason IS NULL
                ORDER BY i.prompt_set, i.kind, i.position
                """)
            return (sets, images)
        }
    }

    /// The records that the rows of `sets` (id, class name, epoch seconds, manual threshold)
    /// and `images` (set, kind, position, media type, size, SHA-256; ordered by set, kind and
    /// position) make, one per set, or why a set's rows make none.
    static func records(sets: PostgresRows, images: PostgresRows) -> [Result<PromptSetRecord, RecordDefect>] {
        var imagesBySet: [String: [(kind: String, position: Int?, image: StoredPromptImage?)]] = [:]
        for row in 0..<images.count {
            let set = images.optionalText(row, 0) ?? ""
            let mediaType = images.optionalText(row, 3).flatMap(PromptImageMediaType.init(rawValue:))
            let byteCount = images.optionalText(row, 4).flatMap { Int($0) }
            var image: StoredPromptImage?
            if let mediaType, let byteCount, let sha256 = images.optionalText(row, 5) {
                image = StoredPromptImage(byteCount: byteCount, sha256: sha256, mediaType: mediaType)
            }
            imagesBySet[set, default: []].append((images.optionalText(row, 1) ?? "", images.optionalText(row, 2).flatMap { Int($0) }, image))
        }
        return (0..<sets.count).map { row in
            let name = sets.optionalText(row, 0) ?? ""
            guard let id = PromptSetID(name) else {
                return .failure(RecordDefect(name: name, reason: "'\(name)' is not a prompt set id"))
            }
            guard let className = sets.optionalText(row, 1), let seconds = sets.optionalText(row, 2).flatMap(Double.init) else {
                return .failure(RecordDefect(name: name, reason: "its class name or creation time is missing"))
            }
            var threshold: Float?
            if let text = sets.optionalText(row, 3) {
                guard let value = Float(text) else { return .failure(RecordDefect(name: name, reason: "its manual threshold '\(text)' is no number")) }
                threshold = value
            }
            var lists: [String: [StoredPromptImage]] = ["prompt": [], "calibration": []]
            for entry in imagesBySet[name] ?? [] {
                guard let list = lists[entry.kind], let image = entry.image, entry.position == list.count else {
                    return .failure(RecordDefect(
                        name: name, reason: "its \(entry.kind) image rows are not positions 0, 1, … with a known media type and size"))
                }
                lists[entry.kind] = list + [image]
            }
            guard let prompts = lists["prompt"], !prompts.isEmpty else {
                return .failure(RecordDefect(name: name, reason: "it has no images"))
            }
            return .success(PromptSetRecord(
                id: id, className: className, createdAt: Date(timeIntervalSince1970: seconds), images: prompts,
                calibrationImages: lists["calibration"] ?? [], manualThreshold: threshold))
        }
    }
}
