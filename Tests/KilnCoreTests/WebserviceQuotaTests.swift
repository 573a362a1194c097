import KilnCore
import Testing

@Suite struct WebserviceQuotaTests {
    func field(_ spec: WebserviceSpec, jobs: [JobSpec] = [], totals: JobQuota = JobQuota()) -> String? {
        do {
            try WebserviceQuota().check(spec, jobs: jobs, totals: totals)
            return nil
        } catch {
            #expect(error.code == .quotaExceeded)
            return error.context["field"]
        }
    }

    @Test func aReplicaWithinItsLimitsPasses() throws {
        #expect(field(try WebserviceSpec(type: .python311, replicas: 2, memory: MemorySize(bytes: 1 << 30))) == nil)
    }

    @Test func eachLimitRefusesWithItsField() throws {
        #expect(field(try WebserviceSpec(type: .python311, memory: MemorySize(bytes: 5 << 30))) == "mem")
        #expect(field(try WebserviceSpec(type: .python311, cpu: CPUQuantity(millicores: 4000))) == "cpu")
        // 16 replicas of 1Gi pass the replica's limit and not the tool's total (8Gi).
        #expect(field(try WebserviceSpec(type: .python311, replicas: 16, memory: MemorySize(bytes: 1 << 30))) == "mem")
        #expect(field(try WebserviceSpec(type: .python311, replicas: 16, cpu: CPUQuantity(millicores: 1000))) == "cpu")
    }

    @Test func continuousJobsLeaveLessForTheWebservice() throws {
        let jobs = [JobSpec(name: "bot", command: "true", image: "bookworm", continuous: true, memory: MemorySize(bytes: 6 << 30))]
        let web = try WebserviceSpec(type: .python311, replicas: 3, memory: MemorySize(bytes: 1 << 30))
        #expect(field(web) == nil)
        #expect(field(web, jobs: jobs) == "mem")
    }
}
