import Foundation
import KilnCore
import KilnStore

extension JobMonitor {
    /// The scheduler: at every due tick, claims the ticks of every job due then (in one store
    /// transaction) and starts their runs; sleeps until the next tick otherwise. Returns when its
    /// task is cancelled.
    func schedule() async {
        while !Task.isCancelled {
            let next = await schedulePass()
            let clock = self.clock
            let sleep = Task<Void, Never> {
                _ = try? await clock.sleep(until: next ?? clock.now().addingTimeInterval(3600))
            }
            schedulerSleep = sleep
            await withTaskCancellationHandler {
                await sleep.value
            } onCancel: {
                sleep.cancel()
            }
            schedulerSleep = nil
        }
    }

    /// How many ticks one store transaction claims.
    static let claimBatch = 100

    /// Makes the scheduler look again now (a schedule was added, changed or removed).
    func wakeScheduler() {
        schedulerSleep?.cancel()
    }

    /// Claims and starts what is due; returns when the next tick is (nil: none).
    func schedulePass() async -> Date? {
        let now = clock.now()
        var claims: [KilnStore.TickClaim] = []
        var next: Date?
        for (key, var ticks) in schedules {
            switch ticks.decide(now: now, running: activeRuns[key] != nil) {
            case .run(let tick, let missed):
                metrics.scheduledRunStarted(tick: tick, now: now)
                claims.append(.init(tool: key.tool, job: key.job, tick: tick.timeIntervalSince1970, missed: missed, run: true))
                if missed > 0 {
                    logger.notice("catching up a scheduled job's missed ticks with one run", metadata: ["job": "\(key)", "missed": "\(missed)"])
                }
            case .skip(let tick):
                claims.append(.init(tool: key.tool, job: key.job, tick: tick.timeIntervalSince1970, missed: 0, run: false))
                logger.notice("a scheduled job's previous run still goes: this tick is skipped", metadata: ["job": "\(key)", "tick": "\(tick)"])
            case .wait(let until):
                next = min(next ?? until, until)
            case .never:
                break
            }
            schedules[key] = ticks
        }
        guard !claims.isEmpty else { return next }
        // Claimed in batches, each batch's runs started as soon as it is stored: the first runs
        // start while the later claims are written.
        var index = 0
        while index < claims.count {
            let batch = Array(claims[index..<min(index + Self.claimBatch, claims.count)])
            index += batch.count
            do {
                for run in try await store.claimTicks(batch, at: now.timeIntervalSince1970)
                where launches[JobKey(tool: run.tool, job: run.job)] != nil {
                    startRunDriver(run)
                }
            } catch {
                logger.error("cannot claim scheduled ticks; they run at the next pass", metadata: ["error": "\(error)"])
                for claim in batch {
                    let key = JobKey(tool: claim.tool, job: claim.job)
                    if let launch = launches[key], let schedule = launch.schedule {
                        // Back to what the store has, so the pass claims them again.
                        let stored = try? await store.job(key.job, of: key.tool)
                        schedules[key] = launch.record.ticks(of: schedule, lastTick: stored?.lastTick)
                    }
                }
                return clock.now().addingTimeInterval(1)
            }
        }
        // Claimed ticks moved on: look again at once for the next ones.
        return now
    }
}
