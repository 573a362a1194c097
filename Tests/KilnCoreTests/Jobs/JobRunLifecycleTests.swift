import Testing

@testable import KilnCore

@Suite struct JobRunLifecycleTests {
    @Test func aSuccessfulRunFinishesAfterOneAttempt() {
        var run = JobRunLifecycle(retries: 2, timeout: 1200)
        #expect(run.start(now: 100) == .spawn(attempt: 1))
        #expect(run.spawned(pid: 42, now: 100) == .none)
        #expect(run.state == .running(attempt: 1, pid: 42, deadline: 1300))
        #expect(run.exited(.exited(code: 0), now: 160) == .finish(.init(result: .succeeded, status: .exited(code: 0), attempts: 1)))
        #expect(run.isFinished)
    }

    @Test func aFailedRunIsRetriedWithGrowingDelaysThenGivenUp() {
        var run = JobRunLifecycle(retries: 2, timeout: 1200)
        _ = run.start(now: 0)
        _ = run.spawned(pid: 1, now: 0)
        #expect(run.exited(.exited(code: 3), now: 5) == .startAgain(after: 15))
        #expect(run.tick(now: 14) == .none)
        #expect(run.tick(now: 15) == .spawn(attempt: 2))
        _ = run.spawned(pid: 2, now: 15)
        #expect(run.exited(.signaled(signal: 9), now: 20) == .startAgain(after: 40))
        #expect(run.tick(now: 40) == .spawn(attempt: 3))
        #expect(run.spawnFailed(reason: "no such file", now: 40)
            == .finish(.init(result: .failed, status: .couldNotStart(reason: "no such file"), attempts: 3)))
    }

    @Test func withoutRetriesTheFirstFailureIsFinal() {
        var run = JobRunLifecycle(retries: 0, timeout: 60)
        _ = run.start(now: 0)
        _ = run.spawned(pid: 1, now: 0)
        let outcome = JobRunLifecycle.Outcome(result: .failed, status: .exited(code: 1), attempts: 1)
        #expect(run.exited(.exited(code: 1), now: 1) == .finish(outcome))
        #expect(outcome.isFailure)
    }

    @Test func pastItsTimeoutTheTreeIsKilledAndTheRunTimesOutWithoutRetry() {
        var run = JobRunLifecycle(retries: 5, timeout: 60)
        _ = run.start(now: 0)
        _ = run.spawned(pid: 7, now: 0)
        #expect(run.tick(now: 59) == .none)
        #expect(run.tick(now: 60) == .killTree(pid: 7))
        let outcome = JobRunLifecycle.Outcome(result: .timedOut, status: .signaled(signal: 9), attempts: 1)
        #expect(run.exited(.signaled(signal: 9), now: 61) == .finish(outcome))
        #expect(outcome.isFailure)
    }

    @Test func aCancelEndsTheRunWhereverItIs() {
        var queued = JobRunLifecycle(retries: 1, timeout: 60)
        #expect(queued.cancel(now: 0) == .finish(.init(result: .cancelled, status: nil, attempts: 0)))

        var running = JobRunLifecycle(retries: 1, timeout: 60)
        _ = running.start(now: 0)
        _ = running.spawned(pid: 9, now: 0)
        #expect(running.cancel(now: 1) == .killTree(pid: 9))
        let cancelled = JobRunLifecycle.Outcome(result: .cancelled, status: .signaled(signal: 9), attempts: 1)
        #expect(running.exited(.signaled(signal: 9), now: 2) == .finish(cancelled))
        #expect(!cancelled.isFailure)

        // Asked while the process was being spawned: it is killed as soon as it has a pid.
        var spawning = JobRunLifecycle(retries: 1, timeout: 60)
        _ = spawning.start(now: 0)
        #expect(spawning.cancel(now: 0) == .none)
        #expect(spawning.spawned(pid: 11, now: 0) == .killTree(pid: 11))

        var retrying = JobRunLifecycle(retries: 3, timeout: 60)
        _ = retrying.start(now: 0)
        _ = retrying.spawned(pid: 1, now: 0)
        _ = retrying.exited(.exited(code: 2), now: 1)
        #expect(retrying.cancel(now: 2) == .finish(.init(result: .cancelled, status: .exited(code: 2), attempts: 1)))
    }

    @Test func eventsThatDoNotFitTheStateChangeNothing() {
        var run = JobRunLifecycle(retries: 0, timeout: 60)
        #expect(run.exited(.exited(code: 0), now: 0) == .none)
        #expect(run.tick(now: 100) == .none)
        #expect(run.state == .queued)
        // A pid reported when none was asked for is killed, never left running untracked.
        #expect(run.spawned(pid: 5, now: 0) == .killTree(pid: 5))
    }

    @Test func retryDelaysDoubleUpToFiveMinutes() {
        #expect((2...8).map(JobRunLifecycle.retryDelay(before:)) == [10, 20, 40, 80, 160, 300, 300])
    }
}
