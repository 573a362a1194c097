import KilnCore
import KilnFormats
import Testing

@Suite struct ServiceTemplateTests {
    @Test func keysOfToolforgesManifestAndGridAreAccepted() throws {
        let manifest = try ServiceTemplate(parsing: """
            # This file is used by Toolforge infrastructure and should not be edited manually
            backend: kubernetes
            buildservice-image: null
            canonical: false
            distribution: debian
            release: buster
            version: 4
            web: golang111
            extra_args:
            - ./server
            """, fileName: "service.manifest")
        #expect(manifest.type?.name == "golang111" && manifest.type?.retired == true)
        #expect(manifest.extraArguments == ["./server"])
        #expect(manifest.warnings.isEmpty, "\(manifest.warnings)")
    }

    @Test func readsWhatToolforgeUsersWrite() throws {
        let template = try ServiceTemplate(parsing: """
            # my tool
            backend: kubernetes
            type: python3.11
            cpu: '1.0'
            mem: 2Gi
            replicas: 2
            extra_args: [--timeout, "60"]
            health-check-path: /healthz
            canonical: True
            mount: none
            """)
        #expect(template.type == .python311)
        #expect(template.cpu == CPUQuantity(millicores: 1000))
        #expect(template.memory == MemorySize(bytes: 2 << 30))
        #expect(template.replicas == 2)
        #expect(template.extraArguments == ["--timeout", "60"])
        #expect(template.healthCheckPath == "/healthz")
        #expect(template.warnings.isEmpty)
    }

    @Test func extraArgumentsAsABlockListOrAString() throws {
        #expect(try ServiceTemplate(parsing: "extra_args:\n  - --workers\n  - '4'\n").extraArguments == ["--workers", "4"])
        #expect(try ServiceTemplate(parsing: "extra_args: --workers 4\n").extraArguments == ["--workers", "4"])
    }

    @Test func anEmptyOrCommentedOutFileIsNoTemplate() throws {
        #expect(try ServiceTemplate(parsing: "") == ServiceTemplate())
        #expect(try ServiceTemplate(parsing: "# type: php8.2\n") == ServiceTemplate())
    }

    @Test func unknownKeysAreWarningsWithTheirLine() throws {
        let template = try ServiceTemplate(parsing: "type: php8.2\nmemory_limit: 1Gi\n")
        #expect(template.type == .php82)
        #expect(template.warnings.map(\.description) == ["service.template line 2: unknown key 'memory_limit' is ignored"])
    }

    @Test(arguments: [
        ("type: python3.11\nreplicas: many\n", "2", "replicas"),
        ("type: cobol\n", "1", "type"),
        ("mem: 1Xi\n", "1", "mem"),
        ("type: static\ncpu: fast\n", "2", "cpu"),
        ("type: [static]\n", "1", "type"),
    ])
    func badValuesNameTheLineAndTheField(text: String, line: String, field: String) {
        let error = #expect(throws: KilnError.self) { try ServiceTemplate(parsing: text) }
        #expect(error?.context["line"] == line, "\(String(describing: error))")
        #expect(error?.context["field"] == field)
        #expect(error?.message.hasPrefix("service.template line \(line), \(field): ") == true, "\(String(describing: error))")
    }

    @Test func malformedYAMLNamesTheLine() {
        let error = #expect(throws: KilnError.self) { try ServiceTemplate(parsing: "type: static\nmem: [1Gi\n") }
        #expect(error?.message.contains("service.template: not valid YAML") == true)
        #expect(error?.context["line"] != nil)
        #expect(throws: KilnError.self) { try ServiceTemplate(parsing: "- type\n- static\n") }
    }

    @Test func flagsOverrideTheTemplateWhichOverridesDefaults() throws {
        let template = try ServiceTemplate(parsing: "type: php8.2\nmem: 1Gi\nreplicas: 2\n")
        var flags = ServiceTemplate()
        flags.replicas = 3
        let spec = try template.merged(with: flags)
        #expect(spec.type == .php82 && spec.replicas == 3 && spec.memory == MemorySize(bytes: 1 << 30))
        #expect(spec.cpu == WebserviceSpec.defaultCPU)
        flags.type = .staticFiles
        #expect(try template.merged(with: flags).type == .staticFiles)
        let missing = #expect(throws: KilnError.self) { try ServiceTemplate().merged(with: ServiceTemplate()) }
        #expect(missing?.message.contains("kiln webservice types") == true)
    }

    @Test func theManifestSaysWhatRuns() throws {
        let spec = try WebserviceSpec(type: .generic, command: "it's ./serve", replicas: 2, extraArguments: ["--x"])
        let manifest = ServiceManifest.render(spec)
        #expect(manifest.contains("\nweb: generic\n"))
        #expect(manifest.contains("\nreplicas: 2\n"))
        #expect(manifest.contains("\ncommand: 'it''s ./serve'\n"))
        #expect(manifest.contains("\nextra_args:\n  - '--x'\n"))
        #expect(!manifest.contains("buildservice-image") && !manifest.contains("mount"))
    }

    @Test func aBuildserviceManifestNamesItsImageAndIsReadBackAsATemplate() throws {
        let tool = try ToolName("bot")
        let implicit = ServiceManifest.render(try WebserviceSpec(type: WebserviceType(parsing: "buildservice")), tool: tool)
        #expect(implicit.contains("\nbuildservice-image: 'tool-bot/bot:latest'\nmount: none\n"), "\(implicit)")
        let spec = try WebserviceSpec(type: WebserviceType(parsing: "buildservice"), command: "worker", image: "tool-bot/api:3")
        let manifest = ServiceManifest.render(spec, tool: tool)
        #expect(manifest.contains("\nbuildservice-image: 'tool-bot/api:3'\n"))
        // Read as a template (a tool copied in with its manifest), it declares the same.
        let template = try ServiceTemplate(parsing: manifest, fileName: ServiceManifest.fileName)
        #expect(try template.merged(with: ServiceTemplate()) == spec)
    }
}
