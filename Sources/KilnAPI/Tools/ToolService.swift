import Foundation
import KilnAccounts
import KilnCore
import KilnFiles
import KilnStore
import Logging

/// Creating and deleting tool accounts: the store row, the Unix account, the home and the token
/// file, kept consistent with each other.
public actor ToolService {
    let store: KilnStore
    let accounts: HostAccounts
    let logger: Logger

    public init(store: KilnStore, accounts: HostAccounts, logger: Logger = Logger(label: "kiln.tools")) {
        self.store = store
        self.accounts = accounts
        self.logger = logger
    }

    public struct Created: Sendable {
        public var tool: Tool
        public var token: String
        public var tokenFile: String
    }

    /// Creates a tool. The actor serialises creations, so two callers cannot race for one name;
    /// the Unix account is made first and adopted if a crash left it behind, and the store row is
    /// written last, so a tool the API acknowledged is complete.
    public func create(name: ToolName, maintainers: [String]) async throws(KilnError) -> Created {
        for maintainer in maintainers { try MaintainerName.validate(maintainer) }
        if try await store.tool(named: name) != nil {
            throw KilnError(.conflict, "tool '\(name)' already exists", context: ["tool": name.rawValue])
        }
        let identity = try await accounts.provision(name)
        let token = AccessToken.generate()
        try accounts.writeToken(token, for: name, owner: identity)
        var unique: [String] = []
        for maintainer in maintainers where !unique.contains(maintainer) { unique.append(maintainer) }
        let tool = Tool(
            name: name, maintainers: unique, unixUser: identity, createdAt: Date().timeIntervalSince1970.rounded())
        try await store.createTool(tool, tokenHash: AccessToken.digest(token))
        logger.info("tool created", metadata: ["tool": "\(name)"])
        return Created(tool: tool, token: token, tokenFile: accounts.tokenFile(of: name))
    }

    /// Gives every stored tool without a Unix user one, before anything of it runs (tools made
    /// before the platform ran as root, or under single-user mode): its home and what the
    /// platform left in it become the new user's. Only when the platform manages users.
    public func ensureIdentities() async throws(KilnError) {
        guard accounts.managesUnixUsers else { return }
        for tool in try await store.tools() where tool.unixUser == nil {
            let identity = try await accounts.provision(tool.name)
            guard let identity else { continue }
            try accounts.claimHome(of: tool.name, from: FileOwner.process, for: identity)
            try await store.setUnixUser(identity, of: tool.name)
            logger.notice("gave a tool made without a Unix user its own", metadata: ["tool": "\(tool.name)", "user": "\(identity.name)"])
        }
    }

    /// Deletes a tool: its routes and tokens go from the store first (so nothing routes to it or
    /// acts for it), then its Unix account; its home is archived, not erased.
    public func delete(name: ToolName) async throws(KilnError) -> (tool: Tool, archivedHome: String?) {
        let tool = try await store.deleteTool(named: name)
        let archived = try await accounts.retire(tool)
        logger.info("tool deleted", metadata: ["tool": "\(name)", "archive": "\(archived ?? "-")"])
        return (tool, archived)
    }

    public nonisolated func home(of name: ToolName) -> String { accounts.home(of: name) }

    /// The tool's home, reached as its own: the one way the API reads files a tool controls.
    public nonisolated func files(of name: ToolName) async throws(KilnError) -> ConfinedDirectory {
        guard let tool = try await store.tool(named: name) else {
            throw KilnError(.notFound, "no tool '\(name)'", context: ["tool": name.rawValue])
        }
        return ConfinedDirectory(path: accounts.home(of: name), owner: FileOwner(tool.unixUser))
    }
}
