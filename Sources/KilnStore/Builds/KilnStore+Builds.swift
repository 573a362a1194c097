import Foundation
import GRDB
import KilnCore

extension KilnStore {
    // MARK: Builds

    /// Records a new build of `tool`'s with the next number. Refused while another of its builds
    /// has not ended (one build a tool at a time) and, past `kept` records, the oldest ended ones
    /// are dropped (returned, so their logs go too).
    public func startBuild(
        of tool: ToolName, parameters: BuildParameters, at date: Date, keeping kept: Int
    ) async throws(KilnError) -> (record: BuildRecord, dropped: [BuildRecord]) {
        try await write { db in
            if let row = try Row.fetchOne(db, sql: "SELECT record FROM builds WHERE tool = ? AND ended = 0 LIMIT 1", arguments: [tool.rawValue]) {
                let running = try Self.build(from: row)
                throw KilnError(
                    .conflict, "the tool '\(tool)' has a build under way (\(running.id), \(running.lifecycle.word)): wait for it or cancel it",
                    context: ["build": running.id])
            }
            let last = try Int.fetchOne(db, sql: "SELECT MAX(number) FROM builds WHERE tool = ?", arguments: [tool.rawValue])
            let images = try Int.fetchOne(db, sql: "SELECT MAX(tag) FROM images WHERE tool = ?", arguments: [tool.rawValue])
            // Numbers are never reused while an image carries one, even once its record is gone.
            let record = BuildRecord(tool: tool, number: max(last ?? 0, images ?? 0) + 1, parameters: parameters, createdAt: date)
            try db.execute(
                sql: "INSERT INTO builds (tool, number, record, ended) VALUES (?, ?, ?, 0)",
                arguments: [tool.rawValue, record.number, try Self.encode(record)])
            let old = try Row.fetchAll(
                db, sql: "SELECT record FROM builds WHERE tool = ? AND ended = 1 ORDER BY number DESC LIMIT -1 OFFSET ?",
                arguments: [tool.rawValue, max(kept - 1, 0)]
            ).map(Self.build(from:))
            for build in old {
                try db.execute(sql: "DELETE FROM builds WHERE tool = ? AND number = ?", arguments: [tool.rawValue, build.number])
            }
            return (record, old)
        }
    }

    /// Saves a build's new state.
    public func saveBuild(_ record: BuildRecord) async throws(KilnError) {
        let text = try Self.encode(record)
        try await write { db in
            try db.execute(
                sql: "UPDATE builds SET record = ?, ended = ? WHERE tool = ? AND number = ?",
                arguments: [text, record.lifecycle.hasEnded ? 1 : 0, record.tool.rawValue, record.number])
        }
    }

    public func build(of tool: ToolName, number: Int) async throws(KilnError) -> BuildRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT record FROM builds WHERE tool = ? AND number = ?", arguments: [tool.rawValue, number])
                .map(Self.build(from:))
        }
    }

    /// `tool`'s builds, newest first.
    public func builds(of tool: ToolName) async throws(KilnError) -> [BuildRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT record FROM builds WHERE tool = ? ORDER BY number DESC", arguments: [tool.rawValue])
                .map(Self.build(from:))
        }
    }

    /// Every tool's builds that have not ended (at start: the ones a stopped server left).
    public func unfinishedBuilds() async throws(KilnError) -> [BuildRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT record FROM builds WHERE ended = 0 ORDER BY tool, number").map(Self.build(from:))
        }
    }

    /// Removes ended build records (one, or all of the tool's when `number` is nil); returns them.
    public func deleteBuilds(of tool: ToolName, number: Int? = nil) async throws(KilnError) -> [BuildRecord] {
        try await write { db in
            let rows: [Row]
            if let number {
                rows = try Row.fetchAll(db, sql: "SELECT record FROM builds WHERE tool = ? AND number = ?", arguments: [tool.rawValue, number])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT record FROM builds WHERE tool = ? AND ended = 1", arguments: [tool.rawValue])
            }
            let builds = try rows.map(Self.build(from:))
            for build in builds {
                guard build.lifecycle.hasEnded else {
                    throw KilnError(.conflict, "the build \(build.id) has not ended: cancel it first", context: ["build": build.id])
                }
                try db.execute(sql: "DELETE FROM builds WHERE tool = ? AND number = ?", arguments: [tool.rawValue, build.number])
            }
            return builds
        }
    }

    // MARK: Images

    /// Records a new image; past `kept` of its name, the oldest go (returned, so their files go too).
    public func addImage(_ manifest: ImageManifest, keeping kept: Int) async throws(KilnError) -> [ImageManifest] {
        let text = try Self.encode(manifest)
        return try await write { db in
            try db.execute(
                sql: "INSERT INTO images (tool, name, tag, manifest) VALUES (?, ?, ?, ?)",
                arguments: [manifest.tool.rawValue, manifest.name, manifest.tag, text])
            let old = try Row.fetchAll(
                db, sql: "SELECT manifest FROM images WHERE tool = ? AND name = ? ORDER BY tag DESC LIMIT -1 OFFSET ?",
                arguments: [manifest.tool.rawValue, manifest.name, max(kept, 1)]
            ).map(Self.image(from:))
            for image in old {
                try db.execute(
                    sql: "DELETE FROM images WHERE tool = ? AND name = ? AND tag = ?", arguments: [image.tool.rawValue, image.name, image.tag])
            }
            return old
        }
    }

    /// The image `name` stands for, when `tool` has it: `tool-TOOL/NAME:latest` is the highest tag.
    public func image(_ name: BuiltImageName) async throws(KilnError) -> ImageManifest? {
        try await read { db in
            let row: Row?
            switch name.tag {
            case .latest:
                row = try Row.fetchOne(
                    db, sql: "SELECT manifest FROM images WHERE tool = ? AND name = ? ORDER BY tag DESC LIMIT 1",
                    arguments: [name.tool.rawValue, name.name])
            case .number(let tag):
                row = try Row.fetchOne(
                    db, sql: "SELECT manifest FROM images WHERE tool = ? AND name = ? AND tag = ?", arguments: [name.tool.rawValue, name.name, tag])
            }
            return try row.map(Self.image(from:))
        }
    }

    /// `tool`'s images, by name, newest first.
    public func images(of tool: ToolName) async throws(KilnError) -> [ImageManifest] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT manifest FROM images WHERE tool = ? ORDER BY name, tag DESC", arguments: [tool.rawValue])
                .map(Self.image(from:))
        }
    }

    /// Removes all of `tool`'s images (`build clean`); returns them, so their files go too.
    public func deleteImages(of tool: ToolName) async throws(KilnError) -> [ImageManifest] {
        try await write { db in
            let images = try Row.fetchAll(db, sql: "SELECT manifest FROM images WHERE tool = ?", arguments: [tool.rawValue]).map(Self.image(from:))
            try db.execute(sql: "DELETE FROM images WHERE tool = ?", arguments: [tool.rawValue])
            return images
        }
    }

    private static func build(from row: Row) throws -> BuildRecord {
        try KilnJSONCoding.decoder.decode(BuildRecord.self, from: Data((row["record"] as String).utf8))
    }

    private static func image(from row: Row) throws -> ImageManifest {
        try KilnJSONCoding.decoder.decode(ImageManifest.self, from: Data((row["manifest"] as String).utf8))
    }
}
