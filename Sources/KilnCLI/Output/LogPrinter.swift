import Foundation
import KilnAPI
import KilnCore

/// Prints the last lines of a log API's streams, and with `follow` what is appended, as
/// `webservice logs` and `jobs logs` do.
struct LogPrinter {
    let client: APIClient
    /// The API path that answers `?stream=…&lines=N|offset=BYTES`.
    let path: String
    /// The header over a stream when several are printed.
    let label: (LogStream) -> String

    func print(streams: [LogStream], last: Int, follow: Bool) async throws {
        var offsets: [LogStream: UInt64] = [:]
        for stream in streams {
            let logs: WebserviceLogsResponse = try await client.get("\(path)?stream=\(stream.rawValue)&lines=\(last)")
            if streams.count > 1, !follow { Swift.print("==> \(label(stream)) <==") }
            FileHandle.standardOutput.write(Data(logs.text.utf8))
            offsets[stream] = logs.nextOffset
        }
        guard follow else { return }
        while !Task.isCancelled {
            try await Task.sleep(for: .milliseconds(500))
            for stream in streams {
                let logs: WebserviceLogsResponse = try await client.get("\(path)?stream=\(stream.rawValue)&offset=\(offsets[stream] ?? 0)")
                FileHandle.standardOutput.write(Data(logs.text.utf8))
                offsets[stream] = logs.nextOffset
            }
        }
    }
}
