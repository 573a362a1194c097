import Foundation
import KilnCore
import KilnStore
import Logging

/// A tool's envvars: kept sealed in the store, open in `ToolEnvironments` for the processes the
/// platform starts. Values are never logged.
public struct EnvvarService: Sendable {
    public struct Envvar: Sendable, Hashable, Codable {
        public var name: String
        public var value: String
    }

    public struct Quota: Sendable, Hashable, Codable {
        public var quota: Int
        public var used: Int
    }

    let store: KilnStore
    let vault: EnvvarVault
    let environments: ToolEnvironments

    public init(store: KilnStore, vault: EnvvarVault, environments: ToolEnvironments) {
        self.store = store
        self.vault = vault
        self.environments = environments
    }

    /// Opens every tool's envvars into `environments` (at start). One that does not open (a
    /// store moved without its key) is left out with an error in the log, not a stop.
    public func load(logger: Logger) async throws(KilnError) {
        for (tool, sealed) in try await store.allEnvvars() {
            var environment: [String: String] = [:]
            for envvar in sealed {
                do {
                    environment[envvar.name.rawValue] = try vault.open(envvar.sealed, name: envvar.name, of: tool)
                } catch {
                    logger.error("an envvar does not open; its processes start without it", metadata: ["tool": "\(tool)", "name": "\(envvar.name)"])
                }
            }
            environments.set(environment, for: tool)
        }
    }

    public func list(_ tool: ToolName) async throws(KilnError) -> [Envvar] {
        var envvars: [Envvar] = []
        for envvar in try await store.envvars(of: tool) {
            envvars.append(Envvar(name: envvar.name.rawValue, value: try vault.open(envvar.sealed, name: envvar.name, of: tool)))
        }
        return envvars
    }

    public func show(_ name: EnvvarName, of tool: ToolName) async throws(KilnError) -> Envvar {
        // Only the one asked for is opened.
        guard let sealed = try await store.envvars(of: tool).first(where: { $0.name == name }) else { throw Self.missing(name) }
        return Envvar(name: name.rawValue, value: try vault.open(sealed.sealed, name: name, of: tool))
    }

    public func set(_ name: EnvvarName, to value: String, of tool: ToolName) async throws(KilnError) -> Envvar {
        if let problem = EnvvarLimits.problem(withValue: value) {
            throw KilnError(.badRequest, "invalid value for envvar \(name): \(problem)", context: ["name": name.rawValue, "field": "value"])
        }
        let sealed = try vault.seal(value, name: name, of: tool)
        try await store.setEnvvar(.init(name: name, sealed: sealed), of: tool, quota: EnvvarLimits.quota)
        try await refresh(tool)
        return Envvar(name: name.rawValue, value: value)
    }

    public func delete(_ name: EnvvarName, of tool: ToolName) async throws(KilnError) -> Envvar {
        guard let removed = try await store.deleteEnvvar(name, of: tool) else { throw Self.missing(name) }
        try await refresh(tool)
        return Envvar(name: name.rawValue, value: (try? vault.open(removed.sealed, name: name, of: tool)) ?? "")
    }

    public func quota(_ tool: ToolName) async throws(KilnError) -> Quota {
        Quota(quota: EnvvarLimits.quota, used: try await store.envvars(of: tool).count)
    }

    /// What the tool's next processes get: read back from the store, so memory follows what was
    /// committed, also when two changes race.
    private func refresh(_ tool: ToolName) async throws(KilnError) {
        environments.set(Dictionary(uniqueKeysWithValues: try await list(tool).map { ($0.name, $0.value) }), for: tool)
    }

    static func missing(_ name: EnvvarName) -> KilnError {
        KilnError(.notFound, "envvar \(name) does not exist", context: ["name": name.rawValue])
    }
}
