import Foundation
import KilnTesting
import Testing

/// `kiln tools quota`: the operator raises or cuts one tool's quota; the tool reads it, never changes it.
@Suite(.serialized) struct ToolQuotaTests {
    @Test func theOperatorChangesOneToolsQuotaAndItHoldsAtTheNextDeclaration() throws {
        let fixture = try JobsTests.Fixture("q")
        defer { fixture.stop() }
        let (tool, data) = (fixture.tool, fixture.data)
        func quota(_ arguments: String..., asTool: Bool = false) throws -> CommandResult {
            try kiln(arguments: ["tools", "quota", tool] + arguments + ["--data", data], asUser: asTool ? "tools.\(tool)" : nil)
        }
        let defaults = try quota()
        #expect(defaults.status == 0 && defaults.standardOutput.contains("the platform's defaults"), "\(defaults)")
        #expect(JobsTests.field("Jobs", in: defaults.standardOutput) == "50")
        #expect(try quota(asTool: true).status == 0, "the tool reads its own")
        let byTool = try quota("--jobs", "500", asTool: true)
        #expect(byTool.status != 0 && byTool.standardError.contains("needs the admin"), "\(byTool)")

        let changed = try quota("--jobs", "2", "--mem", "1Gi")
        #expect(changed.status == 0 && changed.standardOutput.contains("its own quota"), "\(changed)")
        #expect(JobsTests.field("Jobs", in: changed.standardOutput) == "2")
        #expect(JobsTests.field("Memory running", in: changed.standardOutput) == "1Gi", "\(changed)")
        for name in ["one", "two"] {
            let run = try fixture.jobs("run", name, "--command", "sleep 30", "--image", "python3.11")
            #expect(run.status == 0, "\(run)")
        }
        let third = try fixture.jobs("run", "three", "--command", "sleep 30", "--image", "python3.11")
        #expect(third.status != 0 && third.messages.lowercased().contains("quota"), "\(third)")
        let big = try kiln(arguments: ["webservice", "generic", "start", "--mem", "2Gi", "--command", "sleep 60", "--tool", tool, "--data", data])
        #expect(big.status != 0 && big.standardError.contains("quota"), "the running total is the tool's own too: \(big)")

        for (flag, value) in [("--jobs", "-1"), ("--jobs", "100000"), ("--mem", "lots"), ("--cpu", "-2")] {
            let refused = try quota(flag, value)
            #expect(refused.status != 0, "\(flag) \(value): \(refused)")
        }
        let reset = try quota("--reset")
        #expect(reset.status == 0 && JobsTests.field("Jobs", in: reset.standardOutput) == "50", "\(reset)")
        #expect(try fixture.jobs("run", "three", "--command", "sleep 30", "--image", "python3.11").status == 0)
    }
}
