import KilnCore
import Testing

@testable import KilnFormats

/// The bounds every user's YAML file is read within: size, expansion, nesting; and numbers in it.
@Suite struct YAMLBoundsTests {
    @Test func aFileOverTheSizeCapIsRefusedNamingTheFile() {
        let text = "# " + String(repeating: "x", count: YAMLDocument.maximumBytes) + "\n[]\n"
        #expect {
            try JobsFile.parse(text)
        } throws: { error in
            let error = error as? KilnError
            return error?.context["file"] == "jobs.yaml" && error?.message.contains("too large") == true
        }
        #expect(throws: KilnError.self) { try ServiceTemplate(parsing: "type: static\n" + text) }
    }

    @Test func billionLaughsIsRefusedWithItsLine() {
        let text = HostileYAML.aliasBomb(levels: 10, fanout: 10, use: 0)
        #expect {
            try JobsFile.parse(text)
        } throws: { error in
            let error = error as? KilnError
            return error?.context["file"] == "jobs.yaml" && error?.context["line"] != nil
                && error?.message.contains("expands to more than 100000 values") == true
        }
    }

    @Test func aBombUsedAsAKeyIsRefusedBeforeYamsHashesIt() {
        // Yams hashes each mapping's keys to find duplicates: this one would hash 10^9 nodes.
        #expect(throws: KilnError.self) { try ServiceTemplate(parsing: HostileYAML.aliasBomb(levels: 9, fanout: 10, use: 1)) }
    }

    @Test func aModestAliasIsStillRead() throws {
        let file = try JobsFile.parse("""
            - &base
              name: a
              command: ./run.sh
              image: bookworm
              mem: 512Mi
            - <<: *base
              name: b
            """)
        #expect(file.jobs.map(\.name) == ["a", "b"])
        #expect(file.jobs[1].memory == MemorySize(bytes: 512 << 20))
    }

    @Test func theExpansionCountsAliasesAsTheNodesTheyName() {
        #expect(YAMLExpansion.count("[a, b]") == .within(nodes: 3))
        #expect(YAMLExpansion.count("- &x [a, b]\n- *x\n- *x\n") == .within(nodes: 10))
        #expect(YAMLExpansion.count("- &x [a, b]\n- *x\n- *x\n", limit: 9) == .exceeds(line: 3))
    }

    @Test(arguments: [999, 1_001, 5_000])
    func deepNestingIsReadOrRefusedWithoutCrashing(depth: Int) {
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        _ = try? JobsFile.parse(text)
        _ = try? ServiceTemplate(parsing: text)
    }

    @Test func memPastTheMaximumNamesTheLineAndField() {
        #expect {
            try JobsFile.parse("- name: big\n  command: x\n  image: bookworm\n  mem: 1e19\n")
        } throws: { error in
            let error = error as? KilnError
            return error?.context["field"] == "mem" && error?.context["line"] == "4" && error?.message.contains("out of range") == true
        }
    }

    @Test(arguments: ["0", "17", "-1", "9223372036854775808", "1e3"])
    func templateReplicasOutOfRangeNameTheLineAndField(value: String) {
        #expect {
            try ServiceTemplate(parsing: "type: python3.11\nreplicas: \(value)\n")
        } throws: { error in
            let error = error as? KilnError
            return error?.context["field"] == "replicas" && error?.context["line"] == "2"
        }
    }
}
