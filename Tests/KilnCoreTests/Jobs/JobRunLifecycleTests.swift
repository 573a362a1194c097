import Foundation
import Testing

@testable import KilnCore

@Suite struct JobRunLifecycleTests {
    @Test func anUnreachableBackendCostsNoAttemptAndIsAskedAgainWithABackoff() {
        var run = JobRunLifecycle(retries: 0, timeout: 60)
        #expect(run.start(now: 0) == .spawn(attempt: 1))
        // 2 s, 4 s, 8 s, 16 s, then 30 s for as long as it takes.
        var now: Date = 0
        for (waits, delay) in [(1, 2), (2, 4), (3, 8), (4, 16), (5, 30), (6, 30)] {
            let after = now + .seconds(delay)
            #expect(run.backendUnreachable(reason: "qmaster down", now: now) == .startAgain(after: after))
            #expect(run.state == .waitingForBackend(attempt: 1, after: after, reason: "qmaster down", waits: waits))
            #expect(run.tick(now: after + .seconds(-1)) == .none)
            #expect(run.tick(now: after) == .spawn(attempt: 1))
            now = after
        }
        // Reached at last: the same first attempt runs, and a later outage starts the backoff over.
        #expect(run.spawned(pid: 7, now: now) == .none)
        #expect(run.exited(.exited(code: 0), now: now + .seconds(1)) == .finish(.init(result: .succeeded, status: .exited(code: 0), attempts: 1)))
        var again = JobRunLifecycle(retries: 1, timeout: 60)
        _ = again.start(now: 0)
        _ = again.backendUnreachable(reason: "down", now: 0)
        _ = again.tick(now: 2)
        _ = again.spawned(pid: 1, now: 2)
        _ = again.exited(.exited(code: 1), now: 3)
        _ = again.tick(now: 13)
        #expect(again.backendUnreachable(reason: "down", now: 13) == .startAgain(after: 15))
    }

    @Test func aWaitingRunIsCancelledWithTheAttemptsThatRan() {
        var run = JobRunLifecycle(retries: 0, timeout: 60, state: .waitingForBackend(attempt: 2, after: 50, reason: "down", waits: 3))
        #expect(run.cancel(now: 10) == .finish(.init(result: .cancelled, status: nil, attempts: 1)))
        // Restored from the store, a waiting run goes on with its backoff where it was.
        var restored = JobRunLifecycle(retries: 0, timeout: 60, state: .waitingForBackend(attempt: 1, after: 50, reason: "down", waits: 3))
        #expect(restored.tick(now: 50) == .spawn(attempt: 1))
        #expect(restored.backendUnreachable(reason: "down", now: 50) == .startAgain(after: 66))
        // Nothing else moves it.
        var waiting = JobRunLifecycle(retries: 0, timeout: 60, state: .waitingForBackend(attempt: 1, after: 50, reason: "down", waits: 1))
        #expect(waiting.exited(.exited(code: 0), now: 10) == .none)
        #expect(waiting.spawnFailed(reason: "x", now: 10) == .none)
        #expect(waiting.backendUnreachable(reason: "x", now: 10) == .none)
    }

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
