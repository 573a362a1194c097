import Foundation
import KilnCore
import PropertyBased
import Testing

@testable import KilnFormats

/// Generated jobs.yaml and service.template texts through the real parsers: each parses into
/// declarations whose numbers are in range, or is refused with an error naming the file. A trap
/// would end the run; a hang would exceed the CI job's time (each property's count is fixed).
@Suite struct FormatsFuzzTests {
    static let jobsFiles = Generator<String, Shrink.None<String>> { rng in HostileYAML.jobsFile(&rng) }
    static let templates = Generator<String, Shrink.None<String>> { rng in HostileYAML.serviceTemplate(&rng) }

    @Test func jobsFilesParseInRangeOrAreRefusedNamingTheFile() async {
        var executions = 0
        var parsed = 0
        await propertyCheck(count: 3000, input: Self.jobsFiles) { text in
            executions += 1
            do throws(KilnError) {
                let file = try JobsFile.parse(text, fileName: "fuzz.yaml")
                parsed += 1
                for spec in file.jobs {
                    #expect((try? spec.validate()) != nil, "\(spec)")
                    #expect(spec.memory.map { (1...MemorySize.maximum.bytes).contains($0.bytes) } ?? true)
                    #expect(spec.cpu.map { (1...CPUQuantity.maximum.millicores).contains($0.millicores) } ?? true)
                }
                // The quota adds them all up: it refuses or passes, never traps.
                _ = try? JobQuota().check(file.jobs)
            } catch {
                #expect(error.context["file"] == "fuzz.yaml", "\(error.message)")
                #expect(!error.message.isEmpty)
            }
        }
        print("fuzz: jobs.yaml: \(executions) executions, \(parsed) parsed")
        #expect(executions == 3000)
    }

    @Test func templatesParseInRangeOrAreRefusedNamingTheFile() async {
        var executions = 0
        var parsed = 0
        await propertyCheck(count: 3000, input: Self.templates) { text in
            executions += 1
            do throws(KilnError) {
                let template = try ServiceTemplate(parsing: text)
                parsed += 1
                #expect(template.replicas.map { (1...WebserviceSpec.maximumReplicas).contains($0) } ?? true)
                #expect(template.memory.map { $0 <= MemorySize.maximum } ?? true)
                if let spec = try? template.merged(with: ServiceTemplate()) {
                    _ = try? WebserviceQuota().check(spec, jobs: [], totals: JobQuota())
                }
            } catch {
                #expect(error.context["file"] == ServiceTemplate.fileName, "\(error.message)")
            }
        }
        print("fuzz: service.template: \(executions) executions, \(parsed) parsed")
        #expect(executions == 3000)
    }

    @Test func aliasBombsAreRefusedBeforeTheyExpand() async {
        var executions = 0
        let bombs = Generator<(Int, Int, Int), Shrink.None<(Int, Int, Int)>> { rng in
            (Int.random(in: 2...14, using: &rng), Int.random(in: 2...12, using: &rng), Int.random(in: 0..<3, using: &rng))
        }
        await propertyCheck(count: 300, input: bombs) { levels, fanout, use in
            executions += 1
            let text = HostileYAML.aliasBomb(levels: levels, fanout: fanout, use: use)
            let outcome: Result<JobsFile, KilnError> = Result { () throws(KilnError) in try JobsFile.parse(text) }
            let template: Result<ServiceTemplate, KilnError> = Result { () throws(KilnError) in try ServiceTemplate(parsing: text) }
            guard HostileYAML.expandedSize(levels: levels, fanout: fanout) > Double(YAMLExpansion.maximumNodes) else { return }
            for message in [outcome.error?.message, template.error?.message] {
                #expect(message?.contains("expands to more than") == true, "\(levels)×\(fanout) use \(use): \(message ?? "accepted")")
            }
        }
        print("fuzz: alias bombs: \(executions) executions")
    }
}

extension Result {
    var error: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
