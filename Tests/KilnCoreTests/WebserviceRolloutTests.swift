import Foundation
import KilnCore
import Testing

@Suite struct WebserviceRolloutTests {
    let tool = try! ToolName("roll")
    let start = ContinuousClock.now

    func record(_ index: Int, _ phase: ReplicaRecord.Phase, restarts: Int = 0, lastExit: KilnCore.ExitStatus? = nil, failed: String? = nil) -> ReplicaRecord {
        ReplicaRecord(tool: tool, index: index, port: 1000 + index, phase: phase, restarts: restarts, lastExit: lastExit, failedReason: failed)
    }

    func rollout() -> WebserviceRollout {
        var rollout = WebserviceRollout()
        _ = rollout.prepared(old: [0, 1], new: [2, 3], deadline: start + .seconds(30))
        return rollout
    }

    @Test func theNewGenerationStartsOnceItIsKnownUnlessInterruptedBefore() {
        var rollout = WebserviceRollout()
        #expect(rollout.state == .preparing && rollout.isUnderWay)
        #expect(rollout.shown == nil, "every record is shown while nothing is decided")
        #expect(rollout.observed([record(0, .serving)], at: start) == .none)
        #expect(rollout.prepared(old: [0, 1], new: [2, 3], deadline: start + .seconds(30)) == .startNew([2, 3]))
        #expect(rollout.state == .startingNew(deadline: start + .seconds(30)))
        #expect(rollout.shown == [0, 1])
        #expect(rollout.prepared(old: [], new: [0], deadline: start) == .none, "prepared once")
        #expect(rollout.old == [0, 1] && rollout.new == [2, 3])

        var stopped = WebserviceRollout()
        #expect(stopped.interrupted() == .none)
        #expect(stopped.prepared(old: [0], new: [1], deadline: start) == .none, "nothing starts once interrupted")
        #expect(stopped.state == .interrupted)
    }

    @Test func freshIndicesAvoidEveryOldOneAndComeBackToTheLowest() {
        #expect(WebserviceRollout.freshIndices(count: 2, avoiding: [0, 1]) == [2, 3])
        #expect(WebserviceRollout.freshIndices(count: 2, avoiding: [2, 3]) == [0, 1])
        #expect(WebserviceRollout.freshIndices(count: 3, avoiding: [1, 3]) == [0, 2, 4])
        #expect(WebserviceRollout.freshIndices(count: 1, avoiding: []) == [0])
        #expect(WebserviceRollout.freshIndices(count: 0, avoiding: [0]) == [])
    }

    @Test func theOldAreRetiredOnlyOnceEveryNewOneServes() {
        var rollout = rollout()
        #expect(rollout.shown == [0, 1])
        // The old ones serving says nothing: only the new generation is looked at.
        let old = [record(0, .serving), record(1, .serving)]
        #expect(rollout.observed(old + [record(2, .starting), record(3, .starting)], at: start + .seconds(1)) == .wait)
        #expect(rollout.observed(old + [record(2, .serving), record(3, .starting)], at: start + .seconds(2)) == .wait)
        #expect(rollout.observed([record(2, .serving)], at: start + .seconds(2)) == .wait, "a record not seen yet is not serving")
        #expect(rollout.state == .startingNew(deadline: start + .seconds(30)))
        #expect(rollout.observed(old + [record(2, .serving), record(3, .serving)], at: start + .seconds(3)) == .retire(old: [0, 1]))
        #expect(rollout.state == .retiringOld)
        #expect(rollout.shown == [2, 3])
        #expect(rollout.isUnderWay)
        // Nothing more is decided from the records while the old ones go.
        #expect(rollout.observed([record(2, .failed, failed: "late")], at: start + .seconds(4)) == .none)
        #expect(rollout.newStopped() == .none)
        #expect(rollout.oldRetired() == .forget([0, 1]))
        #expect(rollout.state == .replaced)
        #expect(!rollout.isUnderWay)
        #expect(rollout.oldRetired() == .none)
        #expect(rollout.interrupted() == .none)
        #expect(rollout.state == .replaced)
    }

    @Test func aNewReplicaThatDiesOrFailsAbandonsTheNewGeneration() {
        for dead in [
            record(3, .backingOff, restarts: 1, lastExit: .exited(code: 3)),
            // Dead and already started again: it died all the same.
            record(3, .starting, restarts: 1, lastExit: .exited(code: 3)),
            record(3, .failed, restarts: 5, lastExit: .exited(code: 3), failed: "5 failures in 10m; last: exited with code 3"),
        ] {
            var rollout = rollout()
            let action = rollout.observed([record(2, .serving), dead], at: start + .seconds(1))
            guard case .stopNew(let stopped, let reason) = action else {
                Issue.record("expected stopNew, got \(action)")
                continue
            }
            #expect(stopped == [2, 3])
            #expect(reason.contains("new replica 3") && reason.contains("exited with code 3"), "\(reason)")
            #expect(rollout.state == .abandoning(reason: reason))
            #expect(rollout.shown == [0, 1], "the old ones stay the webservice")
            #expect(rollout.oldRetired() == .none, "the old ones are never retired once abandoned")
            #expect(rollout.newStopped() == .forget([2, 3]))
            #expect(rollout.state == .abandoned(reason: reason))
            #expect(rollout.shown == [0, 1])
            #expect(!rollout.isUnderWay)
        }
    }

    @Test func newReplicasNotServingByTheDeadlineAreAbandoned() {
        var rollout = rollout()
        let records = [record(2, .serving), record(3, .starting)]
        #expect(rollout.observed(records, at: start + .seconds(29)) == .wait)
        let action = rollout.observed(records, at: start + .seconds(30))
        guard case .stopNew(let stopped, let reason) = action else {
            Issue.record("expected stopNew, got \(action)")
            return
        }
        #expect(stopped == [2, 3])
        #expect(reason.contains("3") && reason.contains("health check"), "\(reason)")
    }

    @Test func anInterruptedRolloutDoesNothingMoreAndForgetsNothing() {
        for step in 0..<3 {
            var rollout = rollout()
            if step >= 1 { _ = rollout.observed([record(2, .serving), record(3, .serving)], at: start) }
            if step == 2 { rollout = self.rollout(); _ = rollout.observed([record(2, .failed, failed: "x")], at: start) }
            #expect(rollout.interrupted() == .none)
            #expect(rollout.state == .interrupted)
            #expect(!rollout.isUnderWay)
            #expect(rollout.observed([record(2, .serving), record(3, .serving)], at: start) == .none)
            #expect(rollout.oldRetired() == .none)
            #expect(rollout.newStopped() == .none)
        }
    }

    @Test func leftoversKeepTheServingReplicasThenTheLowest() {
        let records = [record(0, .serving), record(1, .starting), record(2, .serving), record(3, .serving)]
        let (kept, dropped) = WebserviceRollout.leftovers(records, wanted: 2)
        #expect(kept.map(\.index) == [0, 2])
        #expect(dropped.map(\.index) == [1, 3])
        let few = WebserviceRollout.leftovers([record(3, .serving), record(2, .starting)], wanted: 2)
        #expect(few.kept.map(\.index) == [2, 3] && few.dropped.isEmpty)
    }
    @Test func aFailedRestartIsSaidWithTheLogTailWhileTheOldReplicasServe() throws {
        let declared = WebserviceRecord(tool: tool, spec: try WebserviceSpec(type: .generic, command: "x", replicas: 2), declaredAt: 1)
        let serving = [record(0, .serving), record(1, .serving)]
        let failed = WebserviceStatus(
            tool: tool, record: declared, replicas: serving, limitEnforcement: [:], errorLogTail: ["boom"], restartFailure: "why")
        #expect(failed.state == .running)
        #expect(failed.restartFailure == "why")
        #expect(failed.errorLogTail == ["boom"], "the new servers' log says why they did not come up")
        let fine = WebserviceStatus(tool: tool, record: declared, replicas: serving, limitEnforcement: [:], errorLogTail: ["boom"])
        #expect(fine.restartFailure == nil && fine.errorLogTail.isEmpty)
        let stopped = WebserviceStatus(tool: tool, record: nil, replicas: [], limitEnforcement: [:], errorLogTail: [], restartFailure: "why")
        #expect(stopped.restartFailure == nil)
    }
}
