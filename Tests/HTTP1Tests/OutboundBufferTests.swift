import Testing
@testable import HTTP1

@Suite struct OutboundBufferTests {
    /// Marks `count` bytes written and takes every message that thereby finished.
    func written(_ count: Int, in buffer: inout OutboundBuffer) -> [OutboundBuffer.Boundary] {
        buffer.markWritten(count)
        var finished: [OutboundBuffer.Boundary] = []
        while let boundary = buffer.takeFinished() { finished.append(boundary) }
        return finished
    }

    @Test func reportsEachMessageWhenItsLastByteIsWritten() {
        var buffer = OutboundBuffer()
        buffer.append(isFinalResponse: false, closesConnection: false) { $0.append(contentsOf: [1, 2, 3]) }
        buffer.append(isFinalResponse: true, closesConnection: false) { $0.append(contentsOf: [4, 5]) }
        buffer.append(isFinalResponse: true, closesConnection: true) { $0.append(contentsOf: [6]) }
        #expect(buffer.pendingByteCount == 6)
        #expect(written(2, in: &buffer).isEmpty)
        #expect(buffer.withPendingBytes { Array($0) } == [3, 4, 5, 6])
        #expect(written(1, in: &buffer) == [OutboundBuffer.Boundary(end: 3, isFinalResponse: false, closesConnection: false)])
        #expect(written(3, in: &buffer).map(\.end) == [5, 6])
        #expect(!buffer.hasPendingBytes)
        // After the buffer was drained and reused, offsets keep counting.
        buffer.append(isFinalResponse: true, closesConnection: false) { $0.append(contentsOf: [7, 8]) }
        #expect(written(2, in: &buffer) == [OutboundBuffer.Boundary(end: 8, isFinalResponse: true, closesConnection: false)])
    }
}
