import Foundation
import Hummingbird
import KilnCore
import KilnStore

/// `/v1/tools/{tool}/quota`: a tool's quota for jobs and for what runs all the time (its
/// continuous jobs and webservice together). The tool reads it; only the operator changes it,
/// as Toolforge's admins raise a tool's quota on request.
struct QuotasController {
    let store: KilnStore
    /// What a tool without a quota of its own has.
    let defaults: JobQuota

    func register(on router: some RouterMethods<KilnRequestContext>) {
        router.get("/v1/tools/{tool}/quota", use: show)
        router.put("/v1/tools/{tool}/quota", use: change)
    }

    @Sendable func show(_ request: Request, context: KilnRequestContext) async throws -> ToolQuotaResponse {
        try await response(for: try context.authorizedTool())
    }

    @Sendable func change(_ request: Request, context: KilnRequestContext) async throws -> ToolQuotaResponse {
        let tool = try context.authorizedTool()
        try context.caller().authorizeAdmin(for: "changing a tool's quota")
        let body = try await request.decode(as: ChangeQuotaRequest.self, context: context)
        if body.reset == true {
            try await store.setJobQuota(nil, of: tool)
        } else {
            try await store.setJobQuota(try body.applied(to: try await store.jobQuota(of: tool) ?? defaults), of: tool)
        }
        return try await response(for: tool)
    }

    private func response(for tool: ToolName) async throws(KilnError) -> ToolQuotaResponse {
        guard try await store.tool(named: tool) != nil else { throw KilnError(.notFound, "no tool '\(tool)'", context: ["tool": tool.rawValue]) }
        let own = try await store.jobQuota(of: tool)
        return ToolQuotaResponse(tool: tool.rawValue, quota: own ?? defaults, own: own != nil)
    }
}

public struct ToolQuotaResponse: Codable, Sendable, ResponseEncodable {
    public var tool: String
    public var quota: JobQuota
    /// Whether an operator set it (false: the platform's defaults).
    public var own: Bool
}

/// The fields an operator changes; those not given keep the tool's current value.
public struct ChangeQuotaRequest: Codable, Sendable {
    public var jobs: Int?
    public var continuousJobs: Int?
    /// All the tool's continuous jobs and webservice replicas together.
    public var mem: String?
    public var cpu: String?
    /// Back to the platform's defaults.
    public var reset: Bool?

    /// Bounds that keep a typo from becoming a quota no host has.
    static let maximumJobs = 10_000

    public init(jobs: Int? = nil, continuousJobs: Int? = nil, mem: String? = nil, cpu: String? = nil, reset: Bool? = nil) {
        self.jobs = jobs
        self.continuousJobs = continuousJobs
        self.mem = mem
        self.cpu = cpu
        self.reset = reset
    }

    enum CodingKeys: String, CodingKey {
        case jobs, continuousJobs, mem, cpu, reset
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            jobs: try container.decodeWholeNumberIfPresent(Int.self, forKey: .jobs),
            continuousJobs: try container.decodeWholeNumberIfPresent(Int.self, forKey: .continuousJobs),
            mem: try container.decodeIfPresent(String.self, forKey: .mem), cpu: try container.decodeIfPresent(String.self, forKey: .cpu),
            reset: try container.decodeIfPresent(Bool.self, forKey: .reset))
    }

    func applied(to current: JobQuota) throws(KilnError) -> JobQuota {
        var quota = current
        for (field, value) in [("jobs", jobs), ("continuous_jobs", continuousJobs)] {
            guard let value else { continue }
            guard (0...Self.maximumJobs).contains(value) else {
                throw KilnError(.badRequest, "\(field) must be from 0 to \(Self.maximumJobs), not \(value)", context: ["field": field])
            }
        }
        if let jobs { quota.jobs = jobs }
        if let continuousJobs { quota.continuousJobs = continuousJobs }
        if let mem {
            do {
                quota.continuousMemory = try MemorySize(parsing: mem)
            } catch {
                throw KilnError(.badRequest, "mem: \(error.message)", context: ["field": "mem"])
            }
        }
        if let cpu {
            do {
                quota.continuousCPU = try CPUQuantity(parsing: cpu)
            } catch {
                throw KilnError(.badRequest, "cpu: \(error.message)", context: ["field": "cpu"])
            }
        }
        return quota
    }
}
