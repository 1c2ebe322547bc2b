// libFuzzer target for HTTPRequestParser, compiled together with the parser's sources by
// scripts/fuzz-http1 (a SwiftPM executable would bring its own `main`).
//
// Besides crashes and sanitizer findings, it checks the parser's central promise: the same
// bytes give the same events and the same error however they are split.

/// Everything a parser made of one input.
private struct Outcome: Equatable {
    var events: [HTTPParserEvent] = []
    var error: HTTPParseError?
}

/// A small deterministic generator, so a crashing input replays exactly.
private struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

private func parse(_ input: [UInt8], limits: HTTPParserLimits, pieceSizes: () -> Int) -> Outcome {
    var parser = HTTPRequestParser(limits: limits)
    var outcome = Outcome()
    var start = 0
    repeat {
        let end = min(input.count, start + max(1, pieceSizes()))
        parser.append(contentsOf: input[start..<end])
        start = end
        do {
            while let event = try parser.nextEvent() {
                outcome.events.append(event)
            }
        } catch {
            outcome.error = error
            return outcome
        }
    } while start < input.count
    return outcome
}

/// Checks what must hold of any successful parse.
private func checkInvariants(_ outcome: Outcome, limits: HTTPParserLimits) {
    var expectingHead = true
    for event in outcome.events {
        switch event {
        case .head(let head):
            precondition(expectingHead, "two heads without an end between them")
            precondition(head.headers.count <= limits.maxHeaderCount, "header count above the limit")
            precondition(!head.target.isEmpty && !head.path.isEmpty, "empty target or path")
            if case .contentLength(let length) = head.bodyFraming {
                precondition(length > 0 && length <= limits.maxBodyBytes, "Content-Length framing out of range")
            }
            expectingHead = false
        case .end(let body, let trailers):
            precondition(!expectingHead, "an end without a head")
            precondition(body.count <= limits.maxBodyBytes, "body above the limit")
            precondition(trailers.count <= limits.maxHeaderCount, "trailer count above the limit")
            expectingHead = true
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    // The input itself seeds the splits, so every finding replays from its file alone.
    var seed: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in input { seed = (seed ^ UInt64(byte)) &* 0x100_0000_01B3 }
    // Half the inputs run under tiny limits, so short inputs reach every limit check.
    let limits = seed & 1 == 0
        ? HTTPParserLimits()
        : HTTPParserLimits(maxRequestLineBytes: 48, maxHeaderBytes: 96, maxHeaderCount: 4, maxBodyBytes: 40, maxChunkLineBytes: 24)

    let whole = parse(input, limits: limits) { input.count }
    checkInvariants(whole, limits: limits)
    var generator = SplitMix64(state: seed)
    let randomSplits = parse(input, limits: limits) { Int(generator.next() % 17) + 1 }
    precondition(randomSplits == whole, "parsing depends on how the input is split: \(whole) vs \(randomSplits)")
    let byteByByte = parse(input, limits: limits) { 1 }
    precondition(byteByByte == whole, "byte-by-byte parsing differs: \(whole) vs \(byteByByte)")
    return 0
}
