import Foundation
import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// What the kernel says of a process that is not (or no longer) the platform's child: whether it
/// is still the same process, and a wait for its end. Used to adopt the servers that kept running
/// while `kiln serve` was down.
public enum ProcessInspector {
    /// The process's start time in clock ticks since boot (field 22 of `/proc/PID/stat`); nil when
    /// there is no such process. With the pid it names one process for the life of the machine.
    public static func startTime(of pid: Int32) -> UInt64? {
        guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After ')' come field 3 (state) onwards: field 22 is the 20th of them.
        guard fields.count > 19, fields[0] != "Z" else { return nil }
        return UInt64(fields[19])
    }

    /// Whether `pid` is still the process that started at `start` (and is not a zombie).
    public static func isAlive(pid: Int32, start: UInt64) -> Bool {
        startTime(of: pid) == start
    }

    /// Waits until the process is gone. A process that is not the platform's child cannot be
    /// waited for, so its pid is polled: a tenth of a second keeps a restart well within 2 s.
    public static func waitForExit(pid: Int32, start: UInt64, every interval: Duration = .milliseconds(100)) async throws {
        while isAlive(pid: pid, start: start) {
            try await Task.sleep(for: interval)
        }
    }

    /// Sends `signal` to the whole process group `pgid` (a replica's leader started it).
    @discardableResult
    public static func signalGroup(_ pgid: Int32, _ signal: Int32) -> Bool {
        pgid > 1 && kill(-pgid, signal) == 0
    }

    /// TERM to the group, then KILL once `grace` has passed with the leader still there.
    public static func stopGroup(_ pgid: Int32, start: UInt64, grace: Duration) async {
        signalGroup(pgid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while isAlive(pid: pgid, start: start), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        // Also when the leader is gone: what it left in its group goes with it.
        signalGroup(pgid, SIGKILL)
    }
}
