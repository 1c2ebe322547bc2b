import Testing
@testable import HTTP1

@Suite struct ConnectionStateMachineTests {
    let start = ContinuousClock.now
    let timeouts = ConnectionStateMachine.Timeouts(
        header: .seconds(10), body: .seconds(60), idle: .seconds(30), write: .seconds(20), lingeringClose: .seconds(2)
    )

    func machine(maxPipelinedRequests: Int = 4) -> ConnectionStateMachine {
        ConnectionStateMachine(acceptedAt: start, timeouts: timeouts, maxPipelinedRequests: maxPipelinedRequests)
    }

    @Test func aFreshConnectionGetsTheHeaderTimeoutThenClosesSilently() {
        var lifecycle = machine()
        #expect(lifecycle.deadline == start + .seconds(10))
        #expect(lifecycle.expire(at: start + .seconds(9)) == nil)
        #expect(lifecycle.expire(at: start + .seconds(10)) == .close)
    }

    @Test func aTLSConnectionHasOnlyTheHandshakeDeadlineUntilItCompletes() {
        var lifecycle = ConnectionStateMachine(
            acceptedAt: start, timeouts: timeouts, maxPipelinedRequests: 4, awaitsHandshake: true
        )
        #expect(lifecycle.isHandshaking)
        #expect(!lifecycle.canReadAnotherRequest)
        #expect(lifecycle.deadline == start + timeouts.handshake)
        #expect(lifecycle.expire(at: start + timeouts.handshake - .milliseconds(1)) == nil)
        lifecycle.handshakeCompleted(at: start + .seconds(3))
        #expect(lifecycle.canReadAnotherRequest)
        // The first request's header clock starts at the end of the handshake.
        #expect(lifecycle.deadline == start + .seconds(13))
    }

    @Test func aStalledHandshakeClosesSilently() {
        var lifecycle = ConnectionStateMachine(
            acceptedAt: start, timeouts: timeouts, maxPipelinedRequests: 4, awaitsHandshake: true
        )
        #expect(lifecycle.expire(at: start + timeouts.handshake) == .close)
    }

    @Test func plainHTTPOnTheTLSPortOwesOneRefusalAndReadsNothing() {
        var lifecycle = ConnectionStateMachine(
            acceptedAt: start, timeouts: timeouts, maxPipelinedRequests: 4, awaitsHandshake: true
        )
        lifecycle.handshakeRefused()
        #expect(!lifecycle.isHandshaking)
        #expect(lifecycle.outstandingResponses == 1)
        #expect(lifecycle.input == .stopped)
        #expect(!lifecycle.canReadAnotherRequest)
    }

    @Test func theFirstRequestsHeaderClockRunsFromAcceptNotFromEachByte() {
        var lifecycle = machine()
        lifecycle.inputObserved(.head, at: start + .seconds(4))
        #expect(lifecycle.input == .receivingHead)
        #expect(lifecycle.deadline == start + .seconds(10))
        #expect(lifecycle.expire(at: start + .seconds(10)) == .answerRequestTimeout)
        // The 408 is now owed and nothing more is read.
        #expect(lifecycle.outstandingResponses == 1)
        #expect(lifecycle.input == .stopped)
        #expect(!lifecycle.canReadAnotherRequest)
    }

    @Test func theBodyHasItsOwnClockFromTheEndOfTheHead() {
        var lifecycle = machine()
        lifecycle.inputObserved(.head, at: start + .seconds(1))
        lifecycle.inputObserved(.body, at: start + .seconds(2))
        #expect(lifecycle.deadline == start + .seconds(62))
        #expect(lifecycle.expire(at: start + .seconds(61)) == nil)
        #expect(lifecycle.expire(at: start + .seconds(62)) == .answerRequestTimeout)
    }

    @Test func noInputClockRunsWhileAResponseIsOwed() {
        var lifecycle = machine()
        lifecycle.inputObserved(.head, at: start)
        lifecycle.requestReceived(at: start + .seconds(1))
        lifecycle.inputObserved(.head, at: start + .seconds(1))
        #expect(lifecycle.deadline == nil)
        #expect(lifecycle.expire(at: start + .seconds(1000)) == nil)
        // Once answered, the half-received next request gets a fresh header clock.
        lifecycle.responseWritten(closingConnection: false, at: start + .seconds(100))
        #expect(lifecycle.deadline == start + .seconds(110))
    }

    @Test func keptAliveConnectionsGetTheIdleTimeoutThenAFreshHeaderClock() {
        var lifecycle = machine()
        lifecycle.inputObserved(.head, at: start)
        lifecycle.requestReceived(at: start + .seconds(1))
        lifecycle.inputObserved(.idle, at: start + .seconds(1))
        lifecycle.responseWritten(closingConnection: false, at: start + .seconds(2))
        #expect(lifecycle.input == .awaitingRequest)
        #expect(lifecycle.deadline == start + .seconds(32))
        lifecycle.inputObserved(.head, at: start + .seconds(20))
        #expect(lifecycle.deadline == start + .seconds(30))
        #expect(lifecycle.expire(at: start + .seconds(31)) == .answerRequestTimeout)
    }

    @Test func idleExpiryClosesWithoutAResponse() {
        var lifecycle = machine()
        lifecycle.requestReceived(at: start)
        lifecycle.responseWritten(closingConnection: false, at: start)
        #expect(lifecycle.expire(at: start + .seconds(30)) == .close)
        #expect(lifecycle.outstandingResponses == 0)
    }

    @Test func thePipelineIsBounded() {
        var lifecycle = machine(maxPipelinedRequests: 2)
        lifecycle.requestReceived(at: start)
        #expect(lifecycle.canReadAnotherRequest)
        lifecycle.requestReceived(at: start)
        #expect(!lifecycle.canReadAnotherRequest)
        lifecycle.responseWritten(closingConnection: false, at: start)
        #expect(lifecycle.canReadAnotherRequest)
    }

    @Test func aStalledWriteIsGivenUpAfterTheWriteTimeoutUnlessItProgresses() {
        var lifecycle = machine()
        lifecycle.requestReceived(at: start)
        lifecycle.writeStalled(at: start + .seconds(1))
        lifecycle.writeStalled(at: start + .seconds(5))
        #expect(lifecycle.deadline == start + .seconds(21))
        lifecycle.writeProgressed(pending: true, at: start + .seconds(15))
        #expect(lifecycle.expire(at: start + .seconds(21)) == nil)
        #expect(lifecycle.expire(at: start + .seconds(35)) == .close)
        lifecycle.writeProgressed(pending: false, at: start + .seconds(16))
        #expect(lifecycle.deadline == nil)
    }

    @Test func aClosingResponseStartsLingeringWithItsOwnDeadline() {
        var lifecycle = machine()
        lifecycle.requestReceived(at: start)
        lifecycle.stopReading()
        #expect(!lifecycle.canReadAnotherRequest)
        lifecycle.responseWritten(closingConnection: true, at: start + .seconds(3))
        #expect(lifecycle.isLingering)
        #expect(lifecycle.deadline == start + .seconds(5))
        #expect(lifecycle.expire(at: start + .seconds(4)) == nil)
        #expect(lifecycle.expire(at: start + .seconds(5)) == .close)
    }

    @Test func aRejectedRequestStopsInputAndOwesItsErrorResponse() {
        var lifecycle = machine()
        lifecycle.inputObserved(.head, at: start)
        lifecycle.requestRejected()
        #expect(lifecycle.input == .stopped)
        #expect(lifecycle.outstandingResponses == 1)
        lifecycle.inputObserved(.head, at: start + .seconds(1))
        #expect(lifecycle.input == .stopped, "a stopped connection never reads again")
    }

    @Test func shutdownClosesIdleConnectionsAndEndsKeepAlive() {
        var idle = machine()
        #expect(idle.allowsKeepAlive)
        idle.beginShutdown()
        #expect(idle.isDoneForShutdown)
        #expect(!idle.allowsKeepAlive)

        var busy = machine()
        busy.requestReceived(at: start)
        busy.beginShutdown()
        #expect(!busy.isDoneForShutdown)
        busy.responseWritten(closingConnection: true, at: start)
        #expect(!busy.isDoneForShutdown, "lingering finishes by its own deadline")

        var receiving = machine()
        receiving.inputObserved(.head, at: start)
        receiving.beginShutdown()
        #expect(!receiving.isDoneForShutdown, "a request being received is let finish")
    }
}
