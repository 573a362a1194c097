import Foundation
import KilnCore
import KilnFiles
import Logging
import Subprocess

#if canImport(Glibc)
import Glibc
#endif

/// The host side of tool accounts: each tool's home directory under the data dir, its token file
/// and, when the platform runs as root, its own Unix user and group.
public struct HostAccounts: Sendable {
    /// Whether Unix users are created for tools.
    public enum UserMode: String, Sendable, CaseIterable {
        /// Create them when running as root; single-user mode otherwise.
        case auto
        case on
        /// Single-user mode: tools run as the server's own user. Refused as root.
        case off
    }

    public let dataDirectory: String
    public let managesUnixUsers: Bool
    public let userPrefix: String
    let logger: Logger

    public init(
        dataDirectory: String,
        userMode: UserMode = .auto,
        userPrefix: String = UnixAccountName.prefix,
        logger: Logger = Logger(label: "kiln.accounts")
    ) throws(KilnError) {
        let isRoot = geteuid() == 0
        if userMode == .on && !isRoot {
            throw KilnError(.hostAccount, "--unix-users on needs root: only root can create Unix users")
        }
        if userMode == .off && isRoot {
            throw KilnError(
                .hostAccount,
                "--unix-users off would run tools' code as root: as root every tool gets its own Unix user; single-user mode is for a server that is not root")
        }
        self.dataDirectory = dataDirectory
        self.managesUnixUsers = userMode == .on || (userMode == .auto && isRoot)
        self.userPrefix = userPrefix
        self.logger = logger
    }

    public var toolsDirectory: String { dataDirectory + "/tools" }

    public func home(of tool: ToolName) -> String { toolsDirectory + "/" + tool.rawValue }

    public func tokenFile(of tool: ToolName) -> String { home(of: tool) + "/.kiln-token" }

    /// Creates (or adopts, after a crash half-way) the tool's Unix account and its home (mode 0750,
    /// owned by the tool). Idempotent.
    public func provision(_ tool: ToolName) async throws(KilnError) -> UnixIdentity? {
        let identity = managesUnixUsers ? try await ensureUnixUser(for: tool) : nil
        // DATA/tools is the platform's: no tool can swap a home there for a link.
        try PrivateDirectory.ensure(toolsDirectory, mode: 0o755, owner: .process)
        try PrivateDirectory.ensure(home(of: tool), mode: 0o750, owner: FileOwner(identity), claiming: true)
        return identity
    }

    /// Writes the tool's token to `.kiln-token` in its home, readable by the tool alone (through
    /// the home as the tool's own: a link planted at that name is replaced, not written through).
    public func writeToken(_ token: String, for tool: ToolName, owner: UnixIdentity?) throws(KilnError) {
        let files = ConfinedDirectory(path: home(of: tool), owner: FileOwner(owner))
        try files.write(Array((token + "\n").utf8), to: HomePath(platform: ".kiln-token"), mode: 0o600)
    }

    /// Gives `identity` what in the tool's home belongs to `previous` (see `ConfinedDirectory.claim`).
    public func claimHome(of tool: ToolName, from previous: FileOwner, for identity: UnixIdentity) throws(KilnError) {
        try ConfinedDirectory(path: home(of: tool), owner: FileOwner(identity)).claim(from: previous)
    }

    /// Removes the tool's Unix account and moves its home to `DATA/archive/` so that nothing the
    /// tool wrote is lost by a delete.
    public func retire(_ tool: Tool) async throws(KilnError) -> String? {
        var archived: String?
        let home = home(of: tool.name)
        if FileManager.default.fileExists(atPath: home) {
            let archive = dataDirectory + "/archive"
            try PrivateDirectory.ensure(archive, mode: 0o700, owner: .process)
            let stamp = Int(Date().timeIntervalSince1970)
            let target = "\(archive)/\(tool.name.rawValue).\(stamp)"
            do {
                try FileManager.default.moveItem(atPath: home, toPath: target)
            } catch {
                throw KilnError(.hostAccount, "cannot archive \(home): \(error)", context: ["path": home])
            }
            archived = target
        }
        if managesUnixUsers, let user = tool.unixUser, Self.lookUpUser(user.name) != nil {
            try await Self.command("/usr/sbin/userdel", [user.name])
            if Self.lookUpGroup(user.name) != nil {
                try? await Self.command("/usr/sbin/groupdel", [user.name])
            }
        }
        return archived
    }

    /// Kills every process of `user`: `kill -9 -1` run as the user, which the kernel delivers to
    /// all the user's processes at once (those that left their process group with setsid
    /// included, and a fork bomb's children, which cannot fork faster than they are killed);
    /// repeated until none is left.
    public func killProcesses(of user: UnixIdentity) async throws(KilnError) {
        guard managesUnixUsers, user.uid != 0, user.uid != geteuid() else { return }
        for _ in 0..<20 {
            guard Self.hasProcesses(uid: user.uid) else { return }
            try? await Self.command(
                "/usr/bin/setpriv", ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--clear-groups", "--", "/bin/kill", "-9", "-1"])
            try? await Task.sleep(for: .milliseconds(50))
        }
        guard !Self.hasProcesses(uid: user.uid) else {
            throw KilnError(.hostAccount, "processes of \(user.name) are still running after being killed", context: ["user": user.name])
        }
    }

    /// Whether any process runs as `uid` (from /proc). A zombie (dead, waiting for its parent to
    /// collect its status) runs nothing and is not counted.
    static func hasProcesses(uid: uid_t) -> Bool {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries where entry.first?.isNumber == true {
            var info = stat()
            guard stat("/proc/" + entry, &info) == 0, info.st_uid == uid else { continue }
            let status = (try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8)) ?? ""
            // The state follows the command's closing parenthesis.
            guard let close = status.lastIndex(of: ")") else { continue }
            let state = status[status.index(after: close)...].drop { $0 == " " }.first
            if state != "Z" && state != "X" && !status.isEmpty { return true }
        }
        return false
    }

    func ensureUnixUser(for tool: ToolName) async throws(KilnError) -> UnixIdentity {
        let name = UnixAccountName.forTool(tool, prefix: userPrefix)
        if let existing = Self.lookUpUser(name) { return existing }
        try await Self.command(
            "/usr/sbin/useradd",
            [
                "--system", "--user-group", "--no-create-home", "--home-dir", home(of: tool),
                "--shell", "/bin/bash", "--comment", "Kiln tool \(tool.rawValue)", name,
            ]
        )
        guard let created = Self.lookUpUser(name) else {
            throw KilnError(.hostAccount, "useradd reported success but user \(name) is missing", context: ["user": name])
        }
        logger.info("created Unix user", metadata: ["user": "\(name)", "uid": "\(created.uid)"])
        return created
    }

    static func lookUpUser(_ name: String) -> UnixIdentity? {
        guard let entry = getpwnam(name) else { return nil }
        return UnixIdentity(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
    }

    static func lookUpGroup(_ name: String) -> gid_t? {
        getgrnam(name)?.pointee.gr_gid
    }

    static func command(_ path: String, _ arguments: [String]) async throws(KilnError) {
        let label = ([path] + arguments).joined(separator: " ")
        do {
            let result = try await Subprocess.run(
                .path(.init(path)), arguments: .init(arguments),
                output: .string(limit: 64 * 1024), error: .string(limit: 64 * 1024))
            guard result.terminationStatus.isSuccess else {
                let stderr = result.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
                throw KilnError(
                    .hostAccount, "\(label) failed (\(result.terminationStatus)): \(stderr)",
                    context: ["command": label])
            }
        } catch let error as KilnError {
            throw error
        } catch {
            throw KilnError(.hostAccount, "cannot run \(label): \(error)", context: ["command": label])
        }
    }
}
