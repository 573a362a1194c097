import KilnCore
import Testing

@Suite struct ProcessLifecycleTests {
    @Test func startRunExitBacksOffAndDoubles() {
        var lifecycle = ProcessLifecycle(policy: RestartPolicy(initialBackoff: 1, maximumBackoff: 300, maximumFailures: 5, failureWindow: 600))
        #expect(lifecycle.start() == .spawn)
        #expect(lifecycle.spawned(pid: 10, at: 0) == .none)
        #expect(lifecycle.state == .running(pid: 10, since: 0))
        #expect(lifecycle.exited(at: 1, reason: "exited(1)") == .startAgain(after: 1))
        #expect(lifecycle.state == .backingOff(until: 2))
        #expect(lifecycle.start() == .spawn)
        _ = lifecycle.spawned(pid: 11, at: 2)
        #expect(lifecycle.exited(at: 3, reason: "exited(1)") == .startAgain(after: 2))
        _ = lifecycle.start()
        _ = lifecycle.spawned(pid: 12, at: 5)
        #expect(lifecycle.exited(at: 6, reason: "exited(1)") == .startAgain(after: 4))
    }

    @Test func tooManyFailuresInTheWindowGiveUp() {
        var lifecycle = ProcessLifecycle(policy: RestartPolicy(maximumFailures: 3, failureWindow: 600))
        for time in [0.0, 10, 20] {
            _ = lifecycle.start()
            _ = lifecycle.spawned(pid: 1, at: time)
            let action = lifecycle.exited(at: time + 1, reason: "exited(2)")
            if time == 20 {
                guard case .giveUp(let reason) = action else {
                    Issue.record("expected giveUp, got \(action)")
                    return
                }
                #expect(reason.contains("exited(2)"))
            }
        }
        guard case .failed = lifecycle.state else {
            Issue.record("expected failed, got \(lifecycle.state)")
            return
        }
        #expect(!lifecycle.isWanted)
        // Starting by hand clears the failure history.
        #expect(lifecycle.start() == .spawn)
        #expect(lifecycle.failureTimes.isEmpty)
    }

    @Test func failuresOutsideTheWindowAreForgotten() {
        var lifecycle = ProcessLifecycle(policy: RestartPolicy(maximumFailures: 2, failureWindow: 60))
        _ = lifecycle.start()
        _ = lifecycle.spawned(pid: 1, at: 0)
        #expect(lifecycle.exited(at: 1, reason: "x") == .startAgain(after: 1))
        _ = lifecycle.start()
        _ = lifecycle.spawned(pid: 2, at: 100)
        #expect(lifecycle.exited(at: 200, reason: "x") == .startAgain(after: 1))
        #expect(lifecycle.failureTimes == [200])
    }

    @Test func stopTerminatesARunningProcessAndItsExitIsNotAFailure() {
        var lifecycle = ProcessLifecycle()
        _ = lifecycle.start()
        _ = lifecycle.spawned(pid: 42, at: 0)
        #expect(lifecycle.stop() == .terminate(pid: 42))
        #expect(lifecycle.state == .stopping(pid: 42))
        #expect(lifecycle.exited(at: 1, reason: "signaled(15)") == .none)
        #expect(lifecycle.state == .stopped)
        #expect(lifecycle.failureTimes.isEmpty)
    }

    @Test func stopWhileBackingOffStopsAtOnce() {
        var lifecycle = ProcessLifecycle()
        _ = lifecycle.start()
        _ = lifecycle.spawned(pid: 1, at: 0)
        _ = lifecycle.exited(at: 1, reason: "x")
        #expect(lifecycle.stop() == .none)
        #expect(lifecycle.state == .stopped)
    }

    @Test func backoffIsCapped() {
        let policy = RestartPolicy(initialBackoff: 1, maximumBackoff: 300)
        #expect(policy.backoff(afterFailures: 1) == 1)
        #expect(policy.backoff(afterFailures: 9) == 256)
        #expect(policy.backoff(afterFailures: 10) == 300)
        #expect(policy.backoff(afterFailures: 100) == 300)
    }
}
