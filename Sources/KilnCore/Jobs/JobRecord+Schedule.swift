import Foundation

extension JobRecord {
    /// The job's schedule as it fires: nicknames spread by its tool and name. nil for a job
    /// without a schedule.
    public func cronSchedule() throws(KilnError) -> CronSchedule? {
        guard let text = spec.schedule else { return nil }
        return try CronSchedule(parsing: text, spreadKey: CronSchedule.spreadKey(tool: tool.rawValue, job: name))
    }

    /// The ticks of `schedule` from the last one claimed (`lastTick`, by default the stored one)
    /// in the job's time zone, none counting from before its declaration.
    public func ticks(of schedule: CronSchedule, lastTick: Double? = nil) -> ScheduleTicks {
        ScheduleTicks(
            schedule: schedule, timeZone: spec.scheduleTimeZone,
            lastTick: (lastTick ?? self.lastTick).map(Date.init(timeIntervalSince1970:)),
            since: Date(timeIntervalSince1970: declaredAt))
    }
}
