import Foundation
import Hummingbird
import KilnCore
import NIOCore

/// Reads request bodies as JSON (KilnJSON's snake_case). A body that does not decode, or whose
/// value is out of range (a negative memory, a port past 65535, a number JSON cannot hold), is a
/// `KilnError` naming the field path ("memory.bytes"), which the API answers with a 400; Hummingbird's
/// own mapping of decoding errors would drop the path.
public struct KilnRequestDecoder: RequestDecoder {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        try Self.decode(type, from: try await request.body.collect(upTo: context.maxUploadSize))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws(KilnError) -> T {
        do {
            return try KilnJSON.decoder.decode(type, from: Data(buffer.readableBytesView))
        } catch let error as KilnError {
            throw error
        } catch let error as DecodingError {
            throw KilnError(decoding: error)
        } catch {
            throw KilnError(.badRequest, "malformed request body: \(error)")
        }
    }
}

extension KilnError {
    /// "malformed request body: field 'memory.bytes': …", with the path as `context["field"]`.
    init(decoding error: DecodingError) {
        let path: [any CodingKey]
        let detail: String
        switch error {
        case .keyNotFound(let key, let context):
            path = context.codingPath + [key]
            detail = "missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            path = context.codingPath
            detail = context.debugDescription
        @unknown default:
            path = []
            detail = "\(error)"
        }
        let field = path.fieldPath
        self.init(
            .badRequest, "malformed request body: " + (field.isEmpty ? detail : "field '\(field)': \(detail)"),
            context: field.isEmpty ? [:] : ["field": field])
    }
}
