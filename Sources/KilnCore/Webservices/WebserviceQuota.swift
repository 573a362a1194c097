/// What one replica of a tool's webservice may have. Its replicas together count against the
/// tool's running totals (`JobQuota.continuousMemory` / `continuousCPU`), shared with its
/// continuous jobs: one budget per tool, as a Kubernetes namespace quota counts every pod.
/// Checked when a webservice is started or restarted, before anything is stored.
public struct WebserviceQuota: Sendable, Hashable, Codable {
    public var memoryPerReplica: MemorySize
    public var cpuPerReplica: CPUQuantity

    public init(memoryPerReplica: MemorySize = MemorySize(bytes: 4 << 30), cpuPerReplica: CPUQuantity = CPUQuantity(millicores: 3000)) {
        self.memoryPerReplica = memoryPerReplica
        self.cpuPerReplica = cpuPerReplica
    }

    /// Refuses `spec` when a replica asks for more than its limit, or when its replicas and the
    /// tool's `jobs` (as declared) go over `totals`, naming the field.
    public func check(_ spec: WebserviceSpec, jobs: [JobSpec], totals: JobQuota) throws(KilnError) {
        if spec.memory > memoryPerReplica {
            throw KilnError(
                .quotaExceeded, "quota exceeded: a webservice replica may have at most \(memoryPerReplica) of memory, not \(spec.memory)",
                context: ["field": "mem"])
        }
        if spec.cpu > cpuPerReplica {
            throw KilnError(
                .quotaExceeded, "quota exceeded: a webservice replica may have at most \(cpuPerReplica) CPU, not \(spec.cpu)",
                context: ["field": "cpu"])
        }
        try totals.check(jobs, webservice: spec)
    }
}
