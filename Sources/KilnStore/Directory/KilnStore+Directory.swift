import Foundation
import GRDB
import KilnCore

extension KilnStore {
    /// Every tool with its webservice's type and state, read in one transaction (so a webservice
    /// and its replicas agree): what the front page lists.
    public func directory() async throws(KilnError) -> ToolDirectory {
        try await read { db in
            let tools = try Self.fetchTools(db, where: nil, arguments: [])
            let webservices = try Row.fetchAll(db, sql: "SELECT * FROM webservices ORDER BY tool").map(Self.webservice(from:))
            var replicas: [ToolName: [ReplicaRecord]] = [:]
            for record in try String.fetchAll(db, sql: "SELECT record FROM webservice_replicas ORDER BY tool, replica") {
                let replica = try KilnJSONCoding.decoder.decode(ReplicaRecord.self, from: Data(record.utf8))
                replicas[replica.tool, default: []].append(replica)
            }
            return ToolDirectory(tools: tools, webservices: webservices, replicas: replicas)
        }
    }
}
