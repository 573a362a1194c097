import NIOHTTP1

/// A response the proxy makes itself: error pages, redirects.
struct LocalResponse: Equatable, Sendable {
    var status: HTTPResponseStatus
    var contentType: String
    var body: String
    var location: String?
    /// Seconds after which the client may try again (429, 503).
    var retryAfter: Int? = nil
    /// The front page's: its HTML holds tools' words, so nothing but its own inline style may run
    /// or load even if one slipped through the escaping.
    var contentSecurityPolicy: String? = nil

    static func page(_ status: HTTPResponseStatus, title: String, message: String) -> LocalResponse {
        let html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(title)</title>
            <style>body{font-family:sans-serif;max-width:40em;margin:4em auto;color:#222}</style></head>
            <body><h1>\(title)</h1><p>\(message)</p></body></html>

            """
        return LocalResponse(status: status, contentType: "text/html; charset=utf-8", body: html, location: nil)
    }

    /// The tool's path or host was asked for, but the tool has no (matching) webservice; the
    /// notice says more when there is more to say (its webservice failed, and why).
    static func toolNotRunning(_ tool: String, notice: String? = nil) -> LocalResponse {
        let name = HTMLEscaping.escape(tool)
        if let notice {
            return page(
                .serviceUnavailable, title: "Webservice failed",
                message: "The webservice of the tool <strong>\(name)</strong> has failed and is not running: "
                    + HTMLEscaping.escape(notice) + ". If you maintain it, see <code>kiln webservice status</code> "
                    + "and start it again when it is mended.")
        }
        return page(
            .serviceUnavailable, title: "No webservice",
            message: "The tool <strong>\(name)</strong> has no webservice running here. "
                + "If you maintain it, start it with <code>kiln webservice start</code>.")
    }

    /// The front page: the directory of tools the control plane lists, as HTML.
    static func frontPage(_ html: String) -> LocalResponse {
        LocalResponse(
            status: .ok, contentType: "text/html; charset=utf-8", body: html, location: nil,
            contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    }

    /// The front page when the control plane does not answer: short, and it says tools still work.
    static let frontPageUnavailable: LocalResponse = {
        var response = page(
            .serviceUnavailable, title: "List of tools unavailable",
            message: "The list of tools cannot be shown right now: the platform's control plane does not answer. "
                + "Tools are still served at their addresses. Please try again in a moment.")
        response.retryAfter = 5
        return response
    }()

    static let notFound = page(.notFound, title: "Not found", message: "Nothing is served at this address.")
    static let badGateway = page(
        .badGateway, title: "Bad gateway", message: "The tool's webservice could not be reached.")
    static let gatewayTimeout = page(
        .gatewayTimeout, title: "Gateway timeout", message: "The tool's webservice did not answer in time.")
    static let requestTimeout = plain(.requestTimeout, "The request was not received in time.\n")
    static let headersTooLarge = plain(.requestHeaderFieldsTooLarge, "The request's headers are too large.\n")
    static let payloadTooLarge = plain(.payloadTooLarge, "The request's body is too large.\n")

    /// A client address past its rate (ClientLimits): a small page, and when to come back.
    static let tooManyRequests: LocalResponse = {
        var response = page(
            .tooManyRequests, title: "Too many requests",
            message: "This address sent more requests than the proxy takes from one address. Please wait a moment and try again.")
        response.retryAfter = 1
        return response
    }()

    /// No User-Agent: Toolforge's front refuses these, and tools expect one to tell who calls.
    static let userAgentRequired = page(
        .forbidden, title: "User-Agent required",
        message: "Requests must name their software in a User-Agent header (see the User-Agent policy of the Wikimedia projects).")

    static func badRequest(_ reason: String) -> LocalResponse {
        plain(.badRequest, "Bad request: \(reason)\n")
    }

    static func redirect(to location: String, status: HTTPResponseStatus) -> LocalResponse {
        LocalResponse(status: status, contentType: "text/plain; charset=utf-8", body: "Moved to \(location)\n", location: location)
    }

    static func plain(_ status: HTTPResponseStatus, _ text: String) -> LocalResponse {
        LocalResponse(status: status, contentType: "text/plain; charset=utf-8", body: text, location: nil)
    }
}

enum HTMLEscaping {
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "&": result += "&amp;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }
}
