/// What one tool may declare in jobs, checked when jobs are created or changed (`run`, `load`,
/// `restart`), so a refusal comes before anything is stored. Per-job limits bound every job;
/// the totals bound what holds its memory and CPU all the time: the continuous jobs' replicas and
/// the webservice's together, one budget per tool as a Kubernetes namespace quota counts every pod
/// (a webservice start is checked against the same totals, with `WebserviceQuota`'s per-replica limits).
public struct JobQuota: Sendable, Hashable, Codable {
    public var jobs: Int
    public var continuousJobs: Int
    public var memoryPerJob: MemorySize
    public var cpuPerJob: CPUQuantity
    /// Of all continuous jobs' replicas together.
    public var continuousMemory: MemorySize
    public var continuousCPU: CPUQuantity

    // The API's JSON is snake_case both ways: "continuous_cpu" must read back as these names.
    enum CodingKeys: String, CodingKey {
        case jobs, continuousJobs, memoryPerJob, cpuPerJob, continuousMemory
        case continuousCPU = "continuousCpu"
    }

    /// What a job gets when it names no `mem` / `cpu` (Toolforge's defaults).
    public static let defaultMemory = MemorySize(bytes: 512 << 20)
    public static let defaultCPU = CPUQuantity(millicores: 500)

    public init(
        jobs: Int = 50, continuousJobs: Int = 10, memoryPerJob: MemorySize = MemorySize(bytes: 6 << 30),
        cpuPerJob: CPUQuantity = CPUQuantity(millicores: 3000), continuousMemory: MemorySize = MemorySize(bytes: 8 << 30),
        continuousCPU: CPUQuantity = CPUQuantity(millicores: 8000)
    ) {
        self.jobs = jobs
        self.continuousJobs = continuousJobs
        self.memoryPerJob = memoryPerJob
        self.cpuPerJob = cpuPerJob
        self.continuousMemory = continuousMemory
        self.continuousCPU = continuousCPU
    }

    /// What a set of job declarations (and the tool's webservice) uses of the quota.
    public struct Usage: Sendable, Hashable, Codable {
        public var jobs: Int
        public var continuousJobs: Int
        /// Of the continuous jobs' replicas.
        public var continuousMemory: MemorySize
        public var continuousCPU: CPUQuantity
        /// Of the webservice's replicas (none without one).
        public var webserviceMemory: MemorySize
        public var webserviceCPU: CPUQuantity

        enum CodingKeys: String, CodingKey {
            case jobs, continuousJobs, continuousMemory, webserviceMemory
            case continuousCPU = "continuousCpu"
            case webserviceCPU = "webserviceCpu"
        }

        public init(_ specs: [JobSpec], webservice: WebserviceSpec? = nil) {
            jobs = specs.count
            let continuous = specs.filter(\.continuous)
            continuousJobs = continuous.count
            // Saturating: whatever the specs say, a total never traps (a saturated one is over any quota).
            continuousMemory = continuous.reduce(.zero) { $0 + $1.effectiveMemory.times($1.replicas ?? 1) }
            continuousCPU = continuous.reduce(.zero) { $0 + $1.effectiveCPU.times($1.replicas ?? 1) }
            webserviceMemory = webservice.map { $0.memory.times($0.replicas) } ?? .zero
            webserviceCPU = webservice.map { $0.cpu.times($0.replicas) } ?? .zero
        }

        /// What holds its memory all the time: continuous jobs and the webservice.
        public var runningMemory: MemorySize { continuousMemory + webserviceMemory }
        public var runningCPU: CPUQuantity { continuousCPU + webserviceCPU }
    }

    /// Refuses `specs` (all of the tool's jobs as they would be) when they go over the quota, with
    /// the tool's `webservice` counted in the running totals, naming the job and the limit.
    public func check(_ specs: [JobSpec], webservice: WebserviceSpec? = nil) throws(KilnError) {
        for spec in specs {
            if spec.effectiveMemory > memoryPerJob {
                throw exceeded("job '\(spec.name)' asks for \(spec.effectiveMemory) of memory; a job may have at most \(memoryPerJob)", field: "mem", job: spec.name)
            }
            if spec.effectiveCPU > cpuPerJob {
                throw exceeded("job '\(spec.name)' asks for \(spec.effectiveCPU) CPU; a job may have at most \(cpuPerJob)", field: "cpu", job: spec.name)
            }
        }
        let usage = Usage(specs, webservice: webservice)
        if usage.jobs > jobs { throw exceeded("a tool may have at most \(jobs) jobs; this would make \(usage.jobs)", field: "jobs") }
        if usage.continuousJobs > continuousJobs {
            throw exceeded("a tool may have at most \(continuousJobs) continuous jobs; this would make \(usage.continuousJobs)", field: "continuous")
        }
        if usage.runningMemory > continuousMemory {
            throw exceeded(
                "continuous jobs\(webservice == nil ? "" : " and the webservice") may use at most \(continuousMemory) of memory together; this would make \(usage.runningMemory)\(Self.split(usage.continuousMemory, usage.webserviceMemory, webservice))",
                field: "mem")
        }
        if usage.runningCPU > continuousCPU {
            throw exceeded(
                "continuous jobs\(webservice == nil ? "" : " and the webservice") may use at most \(continuousCPU) CPU together; this would make \(usage.runningCPU)\(Self.split(usage.continuousCPU, usage.webserviceCPU, webservice))",
                field: "cpu")
        }
    }

    /// " (jobs 1Gi, webservice 4Gi)" when a webservice shares the total.
    private static func split(_ jobs: some CustomStringConvertible, _ web: some CustomStringConvertible, _ webservice: WebserviceSpec?) -> String {
        webservice == nil ? "" : " (jobs \(jobs), webservice \(web))"
    }

    private func exceeded(_ message: String, field: String, job: String? = nil) -> KilnError {
        var context = ["field": field]
        if let job { context["job"] = job }
        return KilnError(.quotaExceeded, "quota exceeded: " + message, context: context)
    }
}

extension JobSpec {
    public var effectiveMemory: MemorySize { memory ?? JobQuota.defaultMemory }
    public var effectiveCPU: CPUQuantity { cpu ?? JobQuota.defaultCPU }
    /// Seconds a run may take.
    public var effectiveTimeout: Int { timeout ?? Self.defaultTimeout }
}
