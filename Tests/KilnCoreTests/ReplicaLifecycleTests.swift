import Foundation
import KilnCore
import Testing

@Suite struct ReplicaLifecycleTests {
    let policy = RestartPolicy(initialBackoff: 1, maximumBackoff: 300, maximumFailures: 5, failureWindow: 600)

    /// Runs one spawn → probe → serve → death cycle and returns what the death asked for.
    func cycle(_ lifecycle: inout ReplicaLifecycle, pid: Int32, at time: Date, status: KilnCore.ExitStatus = .exited(code: 1)) -> ReplicaLifecycle.Action {
        _ = lifecycle.spawned(pid: pid, at: time)
        _ = lifecycle.healthy()
        return lifecycle.exited(status, at: time + .seconds(1))
    }

    @Test func aReplicaIsRoutedOnlyOnceItAnswers() {
        var lifecycle = ReplicaLifecycle(policy: policy)
        #expect(lifecycle.start() == .spawn)
        #expect(lifecycle.state == .spawning)
        #expect(lifecycle.spawned(pid: 42, at: 10) == .probe(pid: 42))
        #expect(lifecycle.state == .probing(pid: 42, since: 10))
        #expect(lifecycle.healthy() == .register)
        #expect(lifecycle.state == .serving(pid: 42, since: 10))
        #expect(lifecycle.pid == 42)
        // A second health report changes nothing.
        #expect(lifecycle.healthy() == .none)
    }

    @Test func theFirstDeathRestartsAtOnceThenTheBackoffDoubles() {
        var lifecycle = ReplicaLifecycle(policy: policy)
        _ = lifecycle.start()
        #expect(cycle(&lifecycle, pid: 1, at: 0, status: .signaled(signal: 9)) == .startAgain(after: 0))
        #expect(lifecycle.state == .backingOff(until: 1, last: .signaled(signal: 9)))
        #expect(lifecycle.lastExit == .signaled(signal: 9))
        #expect(lifecycle.backoffElapsed() == .spawn)
        #expect(cycle(&lifecycle, pid: 2, at: 2) == .startAgain(after: 1))
        _ = lifecycle.backoffElapsed()
        #expect(cycle(&lifecycle, pid: 3, at: 4) == .startAgain(after: 2))
        _ = lifecycle.backoffElapsed()
        #expect(cycle(&lifecycle, pid: 4, at: 8) == .startAgain(after: 4))
        #expect(lifecycle.restarts == 4)
    }

    @Test func aCrashLoopIsGivenUpAsFailedWithTheLastExit() {
        var lifecycle = ReplicaLifecycle(policy: policy)
        _ = lifecycle.start()
        var action = ReplicaLifecycle.Action.none
        for attempt in 0..<5 {
            // It exits before ever answering.
            _ = lifecycle.spawned(pid: Int32(attempt + 1), at: Date(timeIntervalSince1970: Double(attempt * 10)))
            action = lifecycle.exited(.exited(code: 3), at: Date(timeIntervalSince1970: Double(attempt * 10 + 1)))
            if attempt < 4 { #expect(lifecycle.backoffElapsed() == .spawn) }
        }
        guard case .giveUp(let reason) = action else {
            Issue.record("expected giveUp, got \(action)")
            return
        }
        #expect(reason.contains("5 failures") && reason.contains("exited with code 3"))
        guard case .failed(_, let last) = lifecycle.state else {
            Issue.record("expected failed, got \(lifecycle.state)")
            return
        }
        #expect(last == .exited(code: 3))
        // Nothing restarts a failed replica but a start by hand, which forgets its history.
        #expect(lifecycle.backoffElapsed() == .none)
        #expect(lifecycle.start() == .spawn)
        #expect(lifecycle.failureTimes.isEmpty && lifecycle.restarts == 0)
    }

    @Test func deathsOutsideTheWindowAreForgotten() {
        var lifecycle = ReplicaLifecycle(policy: RestartPolicy(maximumFailures: 3, failureWindow: 60))
        _ = lifecycle.start()
        for time: Date in [0, 100, 200, 300, 400] {
            let action = cycle(&lifecycle, pid: 1, at: time)
            #expect(action == .startAgain(after: 0), "at \(time)")
            _ = lifecycle.backoffElapsed()
        }
    }

    @Test func historyCarriedOverARestartOfThePlatformCounts() {
        // Four recent deaths were persisted; the fifth gives up.
        var lifecycle = ReplicaLifecycle(policy: policy, failureTimes: [100, 110, 120, 130], restarts: 4)
        _ = lifecycle.start()
        guard case .giveUp = cycle(&lifecycle, pid: 9, at: 140) else {
            Issue.record("the persisted history was not counted: \(lifecycle.state)")
            return
        }
        #expect(lifecycle.restarts == 5)
    }

    @Test func stoppingAServingReplicaDeregistersBeforeTerminating() {
        var lifecycle = ReplicaLifecycle(policy: policy)
        _ = lifecycle.start()
        _ = lifecycle.spawned(pid: 7, at: 0)
        _ = lifecycle.healthy()
        #expect(lifecycle.stop() == .deregisterAndTerminate(pid: 7))
        #expect(lifecycle.state == .stopping(pid: 7))
        // Its exit after a stop is no failure.
        #expect(lifecycle.exited(.signaled(signal: 15), at: 1) == .none)
        #expect(lifecycle.state == .idle)
        #expect(lifecycle.failureTimes.isEmpty && lifecycle.restarts == 0)
    }

    @Test func stoppingInEveryOtherState() {
        var probing = ReplicaLifecycle(policy: policy)
        _ = probing.start()
        _ = probing.spawned(pid: 3, at: 0)
        #expect(probing.stop() == .terminate(pid: 3))

        var spawning = ReplicaLifecycle(policy: policy)
        _ = spawning.start()
        #expect(spawning.stop() == .none)
        // The process that was being spawned goes at once.
        #expect(spawning.spawned(pid: 4, at: 0) == .terminate(pid: 4))

        var backingOff = ReplicaLifecycle(policy: policy)
        _ = backingOff.start()
        _ = cycle(&backingOff, pid: 5, at: 0)
        #expect(backingOff.stop() == .none)
        #expect(backingOff.state == .idle)
        #expect(backingOff.backoffElapsed() == .none)

        var idle = ReplicaLifecycle(policy: policy)
        #expect(idle.stop() == .none)
    }

    @Test func anUnhealthyReplicaIsTerminatedAndItsExitCounts() {
        var lifecycle = ReplicaLifecycle(policy: policy)
        _ = lifecycle.start()
        _ = lifecycle.spawned(pid: 8, at: 0)
        #expect(lifecycle.unhealthy() == .terminate(pid: 8))
        #expect(lifecycle.exited(.unhealthy(reason: "no answer"), at: 30) == .startAgain(after: 0))
        #expect(lifecycle.restarts == 1)
        // Once serving, a late "unhealthy" is ignored.
        _ = lifecycle.backoffElapsed()
        _ = lifecycle.spawned(pid: 9, at: 31)
        _ = lifecycle.healthy()
        #expect(lifecycle.unhealthy() == .none)
    }

    @Test func anAdoptedProcessIsServingAtOnce() {
        var lifecycle = ReplicaLifecycle(policy: policy, failureTimes: [5], restarts: 1)
        #expect(lifecycle.adopted(pid: 77, since: 3) == .register)
        #expect(lifecycle.state == .serving(pid: 77, since: 3))
        #expect(lifecycle.adopted(pid: 78, since: 4) == .none)
        #expect(lifecycle.exited(.unknown, at: 100) == .startAgain(after: 1))
    }
}
