/// A named runtime environment a job runs in, as `--image` and `jobs.yaml` name it. On this
/// platform an image is not a container: it names the host runtime its commands expect (a Python,
/// a PHP, a Node.js …), which the runner puts first on the job's PATH.
public struct JobImage: Sendable, Hashable, Codable {
    /// The runtime an image names (shared with webservices' types).
    public typealias Runtime = LanguageRuntime

    public var shortName: String
    public var runtime: Runtime
    /// The version the name asks for (`3.11`, `8.2` …); the host's may differ (`nearest`).
    public var version: String?
    /// The container image Toolforge names it after, for users who compare.
    public var containerImage: String
    /// Retired on Toolforge: still accepted (users' files carry it), with a warning.
    public var retired: Bool
    /// An image the tool built (`tool-TOOL/NAME:latest`): resolved to its newest build at each start.
    public var built: BuiltImageName?
    /// How the built image's processes run, once resolved for a start.
    public var launch: ImageLaunch?

    public init(shortName: String, runtime: Runtime, version: String?, containerImage: String, retired: Bool = false) {
        self.shortName = shortName
        self.runtime = runtime
        self.version = version
        self.containerImage = containerImage
        self.retired = retired
    }

    /// What `jobs run` and `load` say when a retired name is used.
    public var retirementWarning: String? {
        guard retired else { return nil }
        let current = JobImageCatalogue.standard.current(for: runtime).map { "; use '\($0.shortName)'" } ?? ""
        return "image '\(shortName)' is retired: the job runs on this host's nearest \(runtime.rawValue) runtime\(current)"
    }
}

/// The images a platform offers: Toolforge's current names and the retired ones still common in
/// users' files, each resolved to a runtime.
public struct JobImageCatalogue: Sendable, Hashable {
    public var images: [JobImage]

    public init(images: [JobImage]) { self.images = images }

    public static let standard: JobImageCatalogue = {
        func image(_ name: String, _ runtime: JobImage.Runtime, _ version: String?, _ container: String, retired: Bool = false) -> JobImage {
            JobImage(
                shortName: name, runtime: runtime, version: version,
                containerImage: "docker-registry.tools.wmflabs.org/\(container):latest", retired: retired)
        }
        return JobImageCatalogue(images: [
            image("bookworm", .debian, "12", "toolforge-bookworm-sssd"),
            image("jdk17", .java, "17", "toolforge-jdk17-sssd-base"),
            image("mariadb", .mariadb, nil, "toolforge-mariadb-sssd-base"),
            image("node18", .node, "18", "toolforge-node18-sssd-base"),
            image("node20", .node, "20", "toolforge-node20-sssd-base"),
            image("php8.2", .php, "8.2", "toolforge-php82-sssd-base"),
            image("php8.4", .php, "8.4", "toolforge-php84-sssd-base"),
            image("python3.11", .python, "3.11", "toolforge-python311-sssd-base"),
            image("python3.13", .python, "3.13", "toolforge-python313-sssd-base"),
            image("bullseye", .debian, "11", "toolforge-bullseye-sssd", retired: true),
            image("tf-bullseye-std", .debian, "11", "toolforge-bullseye-standalone", retired: true),
            image("tf-buster-std", .debian, "10", "toolforge-buster-standalone", retired: true),
            image("tf-golang111", .debian, nil, "toolforge-golang111-sssd-base", retired: true),
            image("tf-jdk11", .java, "11", "toolforge-jdk11-sssd-base", retired: true),
            image("tf-jdk17", .java, "17", "toolforge-jdk17-sssd-base", retired: true),
            image("tf-mono68", .mono, "6.8", "toolforge-mono68-sssd-base", retired: true),
            image("tf-node12", .node, "12", "toolforge-node12-sssd-base", retired: true),
            image("node16", .node, "16", "toolforge-node16-sssd-base", retired: true),
            image("tf-php74", .php, "7.4", "toolforge-php74-sssd-base", retired: true),
            image("php7.4", .php, "7.4", "toolforge-php74-sssd-base", retired: true),
            image("tf-python39", .python, "3.9", "toolforge-python39-sssd-base", retired: true),
            image("python3.9", .python, "3.9", "toolforge-python39-sssd-base", retired: true),
            image("tf-python37", .python, "3.7", "toolforge-python37-sssd-base", retired: true),
            image("tf-ruby27", .ruby, "2.7", "toolforge-ruby27-sssd-base", retired: true),
        ])
    }()

    /// The current image of `runtime` with the highest version.
    public func current(for runtime: JobImage.Runtime) -> JobImage? {
        images.filter { $0.runtime == runtime && !$0.retired }.last
    }

    /// The image `name` stands for. A tool's own build (`tool-TOOL/NAME:TAG`) is read here and
    /// checked where the tool is known (`JobMonitor`); an unknown name is an error that says what
    /// is valid.
    public func resolve(_ name: String) throws(KilnError) -> JobImage {
        let trimmed = name.trimmingWhitespace()
        if let image = images.first(where: { $0.shortName == trimmed }) { return image }
        if BuiltImageName.isBuiltImage(trimmed) {
            let built = try BuiltImageName(parsing: trimmed)
            var image = JobImage(shortName: built.description, runtime: .debian, version: nil, containerImage: built.description)
            image.built = built
            return image
        }
        throw KilnError(
            .badRequest, "unknown image '\(trimmed)': use one of \(currentNames) (retired names such as tf-python39 are accepted too)",
            context: ["field": "image", "value": trimmed])
    }

    var currentNames: String { images.filter { !$0.retired }.map(\.shortName).joined(separator: ", ") }
}
