import Foundation
import KilnCore
import Testing

/// A job as the API receives it: every number is checked as it is decoded, the error naming the field.
@Suite struct JobSpecDecodingTests {
    func decode(_ fields: String) throws -> JobSpec {
        try JSONDecoder().decode(JobSpec.self, from: Data(#"{"name": "a", "command": "true", "image": "bookworm", \#(fields)}"#.utf8))
    }

    func refusedField(_ fields: String) -> String? {
        do {
            _ = try decode(fields)
            return nil
        } catch let error as KilnError {
            return error.context["field"]
        } catch {
            return "not a KilnError: \(error)"
        }
    }

    @Test func numbersInRangeDecode() throws {
        let spec = try decode(#""continuous": true, "port": 8000, "replicas": 16, "memory": {"bytes": 1073741824}, "cpu": {"millicores": 500}"#)
        #expect(spec.port == 8000)
        #expect(spec.replicas == 16)
        #expect(spec.memory == MemorySize(bytes: 1 << 30))
    }

    @Test(arguments: [
        (#""retry": 6"#, "retry"), (#""retry": -1"#, "retry"), (#""timeout": 0"#, "timeout"), (#""timeout": 86401"#, "timeout"),
        (#""port": 0"#, "port"), (#""port": 65536"#, "port"), (#""replicas": 0"#, "replicas"), (#""replicas": 17"#, "replicas"),
        (#""memory": {"bytes": -1000000000000000000}"#, "memory"), (#""memory": {"bytes": 0}"#, "memory"),
        (#""cpu": {"millicores": -1}"#, "cpu"), (#""cpu": {"millicores": 0}"#, "cpu"),
    ])
    func numbersOutOfRangeNameTheirField(fields: String, field: String) {
        #expect(refusedField(fields) == field)
    }
}
