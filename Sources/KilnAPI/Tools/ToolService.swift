import Foundation
import KilnAccounts
import KilnBuilds
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
    /// The build service, whose images and build folders go with a deleted tool.
    let builds: (any BuildControl)?

    public init(
        store: KilnStore, accounts: HostAccounts, builds: (any BuildControl)? = nil, logger: Logger = Logger(label: "kiln.tools")
    ) {
        self.builds = builds
        self.store = store
        self.accounts = accounts
        self.logger = logger
    }

    public struct Created: Sendable {
        public var tool: Tool
        public var token: String
        public var tokenFile: String
        /// Whether the home was there before the account (a tool moved in).
        public var imported: Bool
    }

    /// Creates a tool. The actor serialises creations, so two callers cannot race for one name;
    /// the Unix account is made first and adopted if a crash left it behind, and the store row is
    /// written last, so a tool the API acknowledged is complete.
    public func create(name: ToolName, maintainers: [String]) async throws(KilnError) -> Created {
        for maintainer in maintainers { try MaintainerName.validate(maintainer) }
        if try await store.tool(named: name) != nil {
            throw KilnError(.conflict, "tool '\(name)' already exists", context: ["tool": name.rawValue])
        }
        // A home already there was put by the operator: a tool moved from elsewhere (its
        // Toolforge home copied in). What the copy left to the platform's user becomes the tool's.
        let imported = FileManager.default.fileExists(atPath: accounts.home(of: name))
        let identity = try await accounts.provision(name)
        if imported, let identity {
            try accounts.claimHome(of: name, from: FileOwner.process, for: identity)
            logger.notice("tool created over an existing home", metadata: ["tool": "\(name)"])
        }
        let token = AccessToken.generate()
        try accounts.writeToken(token, for: name, owner: identity)
        var unique: [String] = []
        for maintainer in maintainers where !unique.contains(maintainer) { unique.append(maintainer) }
        let tool = Tool(
            name: name, maintainers: unique, unixUser: identity, createdAt: Date().timeIntervalSince1970.rounded())
        try await store.createTool(tool, tokenHash: AccessToken.digest(token))
        logger.info("tool created", metadata: ["tool": "\(name)"])
        return Created(tool: tool, token: token, tokenFile: accounts.tokenFile(of: name), imported: imported)
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

    /// Begins a tool's deletion: its tokens go, so nothing acts for it with one, and every process
    /// of its user is killed (the stops that follow then find nothing of it still running to call
    /// the API through the socket).
    public func beginDeletion(of name: ToolName) async throws(KilnError) -> Tool {
        guard let tool = try await store.tool(named: name) else {
            throw KilnError(.notFound, "tool '\(name)' does not exist", context: ["tool": name.rawValue])
        }
        try await store.revokeTokens(of: name)
        if let user = tool.unixUser { try await accounts.killProcesses(of: user) }
        return tool
    }

    /// Ends a tool's deletion, once its servers and jobs are stopped: every process of its user is
    /// killed again (what escaped its process groups with setsid among them), its Unix user is
    /// removed and its home archived; only then is it forgotten (its row, routes and tokens), so a
    /// failure part-way leaves a tool that can be deleted again, never a user with no tool.
    public func delete(name: ToolName) async throws(KilnError) -> (tool: Tool, archivedHome: String?) {
        guard let tool = try await store.tool(named: name) else {
            throw KilnError(.notFound, "tool '\(name)' does not exist", context: ["tool": name.rawValue])
        }
        if let user = tool.unixUser { try await accounts.killProcesses(of: user) }
        // Its images are readable by its group, which a later tool may be given: they go first.
        try await builds?.forget(tool)
        let archived = try await accounts.retire(tool)
        try await store.deleteTool(named: name)
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
