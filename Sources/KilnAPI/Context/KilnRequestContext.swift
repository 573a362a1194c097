import Foundation
import Hummingbird
import KilnCore
import NIOCore

/// The per-request context of the control-plane API: the connection it came on (for the Unix
/// socket's peer credentials) and, once authenticated, who is calling.
public struct KilnRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel
    public var principal: Principal?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
        principal = nil
    }

    public var requestDecoder: KilnRequestDecoder { KilnRequestDecoder() }
    public var responseEncoder: JSONEncoder { KilnJSON.encoder }

    /// The authenticated caller; the authentication middleware has set it for every route.
    public func caller() throws(KilnError) -> Principal {
        guard let principal else { throw KilnError(.unauthenticated, "authentication required") }
        return principal
    }
}

/// One JSON convention for the whole API: snake_case keys, sorted for stable output.
public enum KilnJSON {
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}
