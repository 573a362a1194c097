import KilnCore

extension JsubOptions {
    /// The `-l` resources a job here can have, as the grid named them.
    enum Resource: String, CaseIterable {
        /// The memory limit (`-mem` says the same).
        case memory = "h_vmem"
        /// The memory the host should have free: jsub raised h_vmem to 1.1 times it when it was larger.
        case freeMemory = "virtual_free"
        /// The run time limit (`HH:MM:SS`, seconds, or `INFINITY`).
        case runTime = "h_rt"
        /// The grid's operating system release (`trusty`, `stretch`, `buster`): one here; accepted and ignored.
        case release
    }

    /// The grid's run time limit: a day at most here, as `jobs run --timeout`.
    static let maximumRunTime = JobSpec.maximumTimeout

    /// `-l h_vmem=1g,release=buster`: comma-separated, each `NAME=VALUE`; within one list h_vmem is
    /// taken before virtual_free, as jsub took them.
    mutating func applyResources(_ list: String) throws(KilnError) {
        var pairs: [(Resource, String)] = []
        for item in list.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let names = Resource.allCases.map(\.rawValue).joined(separator: ", ")
            guard parts.count == 2, let resource = Resource(rawValue: String(parts[0])) else {
                throw Self.usage(
                    "-l \(String(item).debugDescriptionPrefix): not a resource a job here can ask for (it takes \(names))", option: "-l")
            }
            pairs.append((resource, String(parts[1])))
        }
        for (resource, value) in pairs.sorted(by: { $0.0 == .memory && $1.0 != .memory }) {
            switch resource {
            case .memory:
                memory = try GridMemory.parse(value, option: "-l h_vmem")
            case .freeMemory:
                let free = try GridMemory.parse(value, option: "-l virtual_free")
                if free > memory {
                    // 1.1 times, rounded up to a whole KiB; checked against the maximum before it is made.
                    let raised = (Double(free.bytes) * 1.1 / 1024).rounded(.up) * 1024
                    guard raised <= Double(MemorySize.maximum.bytes) else {
                        throw Self.usage("-l virtual_free=\(value.debugDescriptionPrefix) is more memory than a job may have", option: "-l")
                    }
                    memory = MemorySize(bytes: Int64(raised))
                }
            case .runTime:
                timeout = try Self.runTime(value)
            case .release:
                break
            }
        }
    }

    /// `h_rt`: seconds, `[[HH:]MM:]SS`, or `INFINITY` (nil: no limit). At most a day.
    static func runTime(_ value: String) throws(KilnError) -> Int? {
        if value.uppercased() == "INFINITY" { return nil }
        let refusal = usage(
            "-l h_rt is seconds or HH:MM:SS from 1 second to 24:00:00, not \(value.debugDescriptionPrefix)", option: "-l h_rt")
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count) else { throw refusal }
        var seconds = 0
        for part in parts {
            // Six digits at most per part: a day fits, and nothing can overflow.
            guard (1...6).contains(part.count), part.unicodeScalars.allSatisfy({ $0 >= "0" && $0 <= "9" }), let number = Int(part)
            else { throw refusal }
            seconds = seconds * 60 + number
        }
        guard (1...maximumRunTime).contains(seconds) else { throw refusal }
        return seconds
    }
}
