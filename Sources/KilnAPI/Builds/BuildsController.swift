import Foundation
import Hummingbird
import KilnBuilds
import KilnCore

/// `/v1/tools/{tool}/builds…` and `/v1/tools/{tool}/images`: a tool's builds and the images
/// they made (`toolforge build`), its own only: another tool's builds and images are neither
/// listed nor reachable.
struct BuildsController {
    let control: any BuildControl

    func register(on router: some RouterMethods<KilnRequestContext>) {
        router.get("/v1/tools/{tool}/builds", use: list)
        router.post("/v1/tools/{tool}/builds", use: start)
        router.delete("/v1/tools/{tool}/builds", use: deleteAll)
        router.get("/v1/tools/{tool}/build-quota", use: quota)
        router.get("/v1/tools/{tool}/builds/{build}", use: show)
        router.delete("/v1/tools/{tool}/builds/{build}", use: delete)
        router.post("/v1/tools/{tool}/builds/{build}/cancel", use: cancel)
        router.get("/v1/tools/{tool}/builds/{build}/logs", use: logs)
        router.get("/v1/tools/{tool}/images", use: images)
        router.delete("/v1/tools/{tool}/images", use: clean)
    }

    @Sendable func list(_ request: Request, context: KilnRequestContext) async throws -> BuildListResponse {
        BuildListResponse(builds: try await control.builds(of: try context.authorizedTool()).map(BuildView.init))
    }

    @Sendable func start(_ request: Request, context: KilnRequestContext) async throws -> EditedResponse<BuildResponse> {
        let tool = try context.authorizedTool()
        let body = try await request.decode(as: StartBuildRequest.self, context: context)
        let parameters = try BuildParameters(
            sourceURL: body.sourceUrl, ref: body.ref, imageName: body.imageName ?? tool.rawValue, environment: body.envvars ?? [:],
            useLatestVersions: body.useLatestVersions ?? false)
        let record = try await control.start(tool: tool, parameters: parameters)
        return EditedResponse(status: .created, response: BuildResponse(build: BuildView(record)))
    }

    @Sendable func show(_ request: Request, context: KilnRequestContext) async throws -> BuildResponse {
        let tool = try context.authorizedTool()
        return BuildResponse(build: BuildView(try await control.build(of: tool, number: try await number(context, tool))))
    }

    @Sendable func cancel(_ request: Request, context: KilnRequestContext) async throws -> BuildResponse {
        let tool = try context.authorizedTool()
        return BuildResponse(build: BuildView(try await control.cancel(tool: tool, number: try await number(context, tool))))
    }

    @Sendable func delete(_ request: Request, context: KilnRequestContext) async throws -> BuildListResponse {
        let tool = try context.authorizedTool()
        return BuildListResponse(builds: try await control.delete(tool: tool, number: try await number(context, tool)).map(BuildView.init))
    }

    @Sendable func deleteAll(_ request: Request, context: KilnRequestContext) async throws -> BuildListResponse {
        BuildListResponse(builds: try await control.delete(tool: try context.authorizedTool(), number: nil).map(BuildView.init))
    }

    @Sendable func quota(_ request: Request, context: KilnRequestContext) async throws -> BuildQuotaResponse {
        BuildQuotaResponse(quota: try await control.quota(of: try context.authorizedTool()))
    }

    /// As the jobs' and webservices' logs: `offset=BYTES` (following) or `lines=N`.
    @Sendable func logs(_ request: Request, context: KilnRequestContext) async throws -> BuildLogsResponse {
        let tool = try context.authorizedTool()
        let number = try await number(context, tool)
        let window = try LogWindow.read(try await control.log(tool: tool, number: number), parameters: request.uri.queryParameters)
        let build = try await control.build(of: tool, number: number)
        return BuildLogsResponse(text: window.text, nextOffset: window.nextOffset, ended: build.lifecycle.hasEnded, status: build.lifecycle.word)
    }

    @Sendable func images(_ request: Request, context: KilnRequestContext) async throws -> ImageListResponse {
        ImageListResponse(images: try await control.images(of: try context.authorizedTool()).map(ImageView.init))
    }

    @Sendable func clean(_ request: Request, context: KilnRequestContext) async throws -> ImageListResponse {
        ImageListResponse(images: try await control.clean(tool: try context.authorizedTool()).map(ImageView.init))
    }

    /// The build named in the path: `TOOL-build-N`, `N`, or `latest` (the newest).
    func number(_ context: KilnRequestContext, _ tool: ToolName) async throws -> Int {
        let given = context.parameters.get("build") ?? ""
        if given == "latest" {
            guard let newest = try await control.builds(of: tool).first else {
                throw KilnError(.notFound, "the tool '\(tool)' has no builds yet", context: ["tool": tool.rawValue])
            }
            return newest.number
        }
        guard let number = BuildRecord.number(in: given, of: tool) else {
            throw KilnError(.notFound, "the tool '\(tool)' has no build '\(given)'", context: ["build": given])
        }
        return number
    }
}

public struct StartBuildRequest: Codable, Sendable {
    public var sourceUrl: String
    public var ref: String?
    public var imageName: String?
    public var envvars: [String: String]?
    public var useLatestVersions: Bool?

    public init(sourceUrl: String, ref: String?, imageName: String?, envvars: [String: String], useLatestVersions: Bool) {
        self.sourceUrl = sourceUrl
        self.ref = ref
        self.imageName = imageName
        self.envvars = envvars
        self.useLatestVersions = useLatestVersions
    }
}

/// A build as clients see it (Toolforge's fields and words).
public struct BuildView: Codable, Sendable, Hashable {
    public var buildId: String
    public var number: Int
    public var status: String
    public var step: String?
    public var message: String
    public var sourceUrl: String
    public var ref: String?
    public var destinationImage: String
    public var envvars: [String: String]
    public var useLatestVersions: Bool
    public var createdAt: Date
    public var startTime: Date?
    public var endTime: Date?
    public var digest: String?

    public init(_ record: BuildRecord) {
        buildId = record.id
        number = record.number
        status = record.lifecycle.word
        step = record.lifecycle.step?.rawValue
        message = record.lifecycle.message
        sourceUrl = record.parameters.sourceURL
        ref = record.parameters.ref
        destinationImage = record.image
        envvars = record.parameters.environment
        useLatestVersions = record.parameters.useLatestVersions
        createdAt = record.createdAt
        startTime = record.startedAt
        endTime = record.endedAt
        digest = record.digest
    }
}

/// An image as `jobs images` and `build list` show it.
public struct ImageView: Codable, Sendable, Hashable {
    public var image: String
    public var tag: Int
    public var latest: Bool
    public var language: String
    public var processes: [String]
    public var digest: String
    public var sizeBytes: Int64
    public var createdAt: Date
    public var buildId: String

    public init(_ manifest: ImageManifest) {
        image = manifest.reference
        tag = manifest.tag
        latest = false
        language = manifest.launch.language.rawValue
        processes = manifest.launch.processes.map(\.type)
        digest = manifest.digest
        sizeBytes = manifest.sizeBytes
        createdAt = manifest.createdAt
        buildId = manifest.buildID
    }
}

public struct BuildResponse: Codable, Sendable, ResponseEncodable {
    public var build: BuildView
}

public struct BuildListResponse: Codable, Sendable, ResponseEncodable {
    public var builds: [BuildView]

    public init(builds: [BuildView]) { self.builds = builds }
}

public struct BuildLogsResponse: Codable, Sendable, ResponseEncodable {
    public var text: String
    public var nextOffset: UInt64
    public var ended: Bool
    public var status: String
}

public struct BuildQuotaResponse: Codable, Sendable, ResponseEncodable {
    public var quota: BuildQuotaReport
}

public struct ImageListResponse: Codable, Sendable, ResponseEncodable {
    public var images: [ImageView]

    public init(images: [ImageView]) {
        var images = images
        // The highest tag of each name is its `latest`.
        var seen: Set<String> = []
        for index in images.indices.sorted(by: { images[$0].tag > images[$1].tag }) {
            let repository = String(images[index].image.split(separator: ":").first ?? "")
            if seen.insert(repository).inserted { images[index].latest = true }
        }
        self.images = images
    }
}
