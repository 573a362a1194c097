import KilnCore
import Testing

/// The health-check state machine of continuous jobs' replicas, as Kubernetes' startup and
/// liveness probes behave: every transition, with the waits it asks for (no clock involved).
@Suite struct ReplicaHealthTests {
    let policy = ProbePolicy(startInterval: .milliseconds(100), period: .seconds(10), timeout: .seconds(5), failureThreshold: 3)

    @Test func aStartingReplicaIsProbedAtOnceThenOftenUntilItPasses() {
        var health = ReplicaHealth(policy: policy)
        #expect(health.state == .starting)
        #expect(health.firstProbe == .probe(after: .zero))
        // Failures while starting never restart it: only the start timeout (the driver's) does.
        for _ in 0..<10 {
            #expect(health.record(.failed("GET /healthz answered 503")) == .probe(after: .milliseconds(100)))
            #expect(health.state == .starting)
        }
        #expect(health.record(.passed) == .ready(probeAfter: .seconds(10)))
        #expect(health.state == .ready)
    }

    @Test func aReadyReplicaIsProbedEveryPeriod() {
        var health = ReplicaHealth(policy: policy, state: .ready)
        #expect(health.firstProbe == .probe(after: .seconds(10)))
        #expect(health.record(.passed) == .probe(after: .seconds(10)))
        #expect(health.state == .ready)
    }

    @Test func failuresInARowRestartItAtTheThreshold() {
        var health = ReplicaHealth(policy: policy, state: .ready)
        #expect(health.record(.failed("GET /healthz: no answer within 5 s")) == .probe(after: .seconds(10)))
        #expect(health.state == .failing(count: 1, last: "GET /healthz: no answer within 5 s"))
        #expect(health.record(.failed("GET /healthz answered 500")) == .probe(after: .seconds(10)))
        #expect(health.state == .failing(count: 2, last: "GET /healthz answered 500"))
        let reason = "its health check failed 3 times in a row, 10 s apart (last: GET /healthz: no answer within 5 s)"
        #expect(health.record(.failed("GET /healthz: no answer within 5 s")) == .restart(reason: reason))
        #expect(health.state == .unhealthy(reason: reason))
        // Once it is to be restarted, nothing it says changes that.
        #expect(health.record(.passed) == .none)
        #expect(health.record(.failed("again")) == .none)
        #expect(health.state == .unhealthy(reason: reason))
        #expect(health.firstProbe == .none)
    }

    @Test func aPassBetweenFailuresStartsTheCountAgain() {
        var health = ReplicaHealth(policy: policy, state: .ready)
        _ = health.record(.failed("x"))
        _ = health.record(.failed("x"))
        #expect(health.record(.passed) == .probe(after: .seconds(10)))
        #expect(health.state == .ready)
        _ = health.record(.failed("x"))
        #expect(health.record(.failed("x")) == .probe(after: .seconds(10)))
        #expect(health.state == .failing(count: 2, last: "x"))
    }

    @Test func aThresholdOfOneRestartsAtTheFirstFailure() {
        var health = ReplicaHealth(policy: ProbePolicy(period: .milliseconds(500), failureThreshold: 1), state: .ready)
        #expect(health.record(.failed("refused")) == .restart(reason: "its health check failed 1 time in a row, 500 ms apart (last: refused)"))
        // No threshold below one: a replica is never restarted for passing.
        #expect(ProbePolicy(failureThreshold: 0).failureThreshold == 1)
    }

    @Test func durationsAreSaidInSecondsOrMilliseconds() {
        #expect(Duration.seconds(10).spoken == "10 s")
        #expect(Duration.milliseconds(1500).spoken == "1500 ms")
        #expect(Duration.zero.spoken == "0 s")
    }
}
