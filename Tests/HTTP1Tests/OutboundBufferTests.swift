import Testing
@testable import HTTP1

@Suite struct OutboundBufferTests {
    @Test func reportsEachMessageWhenItsLastByteIsWritten() {
        var buffer = OutboundBuffer()
        buffer.append(isFinalResponse: false, closesConnection: false) { $0.append(contentsOf: [1, 2, 3]) }
        buffer.append(isFinalResponse: true, closesConnection: false) { $0.append(contentsOf: [4, 5]) }
        buffer.append(isFinalResponse: true, closesConnection: true) { $0.append(contentsOf: [6]) }
        #expect(buffer.pendingByteCount == 6)
        #expect(buffer.markWritten(2).isEmpty)
        #expect(buffer.withPendingBytes { Array($0) } == [3, 4, 5, 6])
        #expect(buffer.markWritten(1) == [OutboundBuffer.Boundary(end: 3, isFinalResponse: false, closesConnection: false)])
        #expect(buffer.markWritten(3).map(\.end) == [5, 6])
        #expect(!buffer.hasPendingBytes)
        // After the buffer was drained and reused, offsets keep counting.
        buffer.append(isFinalResponse: true, closesConnection: false) { $0.append(contentsOf: [7, 8]) }
        #expect(buffer.markWritten(2) == [OutboundBuffer.Boundary(end: 8, isFinalResponse: true, closesConnection: false)])
    }
}
