import Foundation
import KilnCore
import Testing

@Suite struct BuildLifecycleTests {
    static let endedStates: [BuildLifecycle] = [
        .succeeded(tag: 3), .failed(step: .dependencies, reason: "pip said no"), .cancelled(step: nil), .cancelled(step: .compile),
        .timedOut(step: .export),
    ]
    static let liveStates: [BuildLifecycle] = [.pending] + BuildStep.allCases.map { .running(step: $0) }
    static let events: [BuildLifecycle.Event] =
        BuildStep.allCases.map { .stepBegan($0) } + [
            .stepFailed(reason: "exit 1"), .exported(tag: 7), .cancelRequested, .deadlinePassed, .interrupted(reason: "server stopped"),
        ]

    /// What each transition should give, written out apart from the lifecycle's own switch: nil
    /// where the state does not take the event.
    static func expected(_ state: BuildLifecycle, _ event: BuildLifecycle.Event) -> BuildLifecycle? {
        switch state {
        case .pending:
            switch event {
            case .stepBegan(let step): return .running(step: step)
            case .cancelRequested: return .cancelled(step: nil)
            case .interrupted(let reason): return .failed(step: .clone, reason: reason)
            case .stepFailed, .exported, .deadlinePassed: return nil
            }
        case .running(let current):
            switch event {
            case .stepBegan(let next): return next.order > current.order ? .running(step: next) : nil
            case .stepFailed(let reason): return .failed(step: current, reason: reason)
            case .exported(let tag): return current == .export ? .succeeded(tag: tag) : nil
            case .cancelRequested: return .cancelled(step: current)
            case .deadlinePassed: return .timedOut(step: current)
            case .interrupted(let reason): return .failed(step: current, reason: reason)
            }
        default:
            return nil
        }
    }

    @Test func everyTransitionOfALiveBuildIsTakenOrRefusedAsAnInternalError() {
        var taken = 0
        var refused = 0
        for state in Self.liveStates {
            for event in Self.events {
                if let expected = Self.expected(state, event) {
                    taken += 1
                    #expect((try? state.after(event)) == expected, "\(state) + \(event)")
                } else {
                    refused += 1
                    let error = #expect(throws: KilnError.self, "\(state) + \(event)") { try state.after(event) }
                    #expect(error?.code == .internalError, "\(state) + \(event)")
                    #expect(error?.context["status"] == state.word)
                    #expect(error?.message.contains(state.word) == true)
                }
            }
        }
        // 6 states × 10 events: the pending build takes 7, each running step 4 and the later steps.
        #expect(taken + refused == 60)
        #expect(taken == 7 + 5 * 4 + (4 + 3 + 2 + 1 + 0) + 1)
    }

    @Test(arguments: BuildLifecycleTests.endedStates)
    func anEndedBuildRefusesEveryEventAsAConflictNamingItsState(_ state: BuildLifecycle) {
        #expect(state.hasEnded)
        for event in Self.events {
            let error = #expect(throws: KilnError.self, "\(state) + \(event)") { try state.after(event) }
            #expect(error?.code == .conflict, "\(state) + \(event)")
            #expect(error?.context["status"] == state.word)
            #expect(error?.message.contains("already ended (\(state.word))") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains(state.message) == true)
        }
    }

    @Test func aBuildGoesThroughItsStepsToSuccess() throws {
        var state = BuildLifecycle.pending
        #expect(!state.hasEnded)
        #expect(state.step == nil)
        for step in BuildStep.allCases {
            state = try state.after(.stepBegan(step))
            #expect(state == .running(step: step))
            #expect(state.step == step)
            #expect(!state.hasEnded)
        }
        state = try state.after(.exported(tag: 4))
        #expect(state == .succeeded(tag: 4))
        #expect(state.hasEnded)
        #expect(state.step == nil)
        #expect(state.word == "BUILD_SUCCESS")
        #expect(state.message == "built; tagged latest and 4")
    }

    @Test func stepsMaySkipAheadButNeverGoBackOrRepeat() throws {
        // A Python build has nothing to compile.
        let dependencies = try BuildLifecycle.pending.after(.stepBegan(.clone)).after(.stepBegan(.detect)).after(.stepBegan(.dependencies))
        #expect(try dependencies.after(.stepBegan(.export)) == .running(step: .export))
        #expect(throws: KilnError.self) { try dependencies.after(.stepBegan(.dependencies)) }
        #expect(throws: KilnError.self) { try dependencies.after(.stepBegan(.clone)) }
        #expect(throws: KilnError.self) { try dependencies.after(.exported(tag: 1)) }
    }

    @Test func theWordsAreToolforges() {
        #expect(BuildLifecycle.pending.word == "BUILD_PENDING")
        #expect(BuildLifecycle.running(step: .clone).word == "BUILD_RUNNING")
        #expect(BuildLifecycle.failed(step: .clone, reason: "x").word == "BUILD_FAILURE")
        #expect(BuildLifecycle.cancelled(step: nil).word == "BUILD_CANCELLED")
        #expect(BuildLifecycle.timedOut(step: .compile).word == "BUILD_TIMEOUT")
    }

    @Test func messagesNameTheStep() {
        #expect(BuildLifecycle.pending.message.contains("waiting"))
        #expect(BuildLifecycle.running(step: .dependencies).message == "installing dependencies (step 'dependencies')")
        #expect(BuildLifecycle.failed(step: .compile, reason: "go vet").message == "step 'compile' failed: go vet")
        #expect(BuildLifecycle.cancelled(step: nil).message == "cancelled before it started")
        #expect(BuildLifecycle.cancelled(step: .clone).message == "cancelled during step 'clone'")
        #expect(BuildLifecycle.timedOut(step: .export).message == "step 'export' ran past the build's time limit")
        #expect(BuildLifecycle.cancelled(step: .detect).step == .detect)
        #expect(BuildLifecycle.cancelled(step: nil).step == nil)
        #expect(BuildLifecycle.failed(step: .export, reason: "disk").step == .export)
        #expect(BuildLifecycle.timedOut(step: .compile).step == .compile)
    }

    @Test func aServerStoppedMidBuildFailsItAtItsStep() throws {
        #expect(try BuildLifecycle.pending.after(.interrupted(reason: "restart")) == .failed(step: .clone, reason: "restart"))
        #expect(try BuildLifecycle.running(step: .compile).after(.interrupted(reason: "restart")) == .failed(step: .compile, reason: "restart"))
    }

    @Test func stepsAreInOrderWithSummaries() {
        #expect(BuildStep.allCases.map(\.order) == [0, 1, 2, 3, 4])
        #expect(BuildStep.allCases == BuildStep.allCases.sorted { $0.order < $1.order })
        #expect(Set(BuildStep.allCases.map(\.summary)).count == BuildStep.allCases.count)
    }

    @Test func everyStateSurvivesCoding() throws {
        for state in Self.liveStates + Self.endedStates {
            let data = try JSONEncoder().encode(state)
            #expect(try JSONDecoder().decode(BuildLifecycle.self, from: data) == state)
        }
    }
}
