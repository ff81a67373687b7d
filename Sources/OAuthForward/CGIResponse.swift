/// A CGI response: the `Status` pseudo-header, header fields and a body, as RFC 3875 section 6 frames them.
package struct CGIResponse: Equatable, Sendable {
    package let status: HTTPStatus
    package let headerFields: [HeaderField]
    package let body: [UInt8]

    package init(status: HTTPStatus, headerFields: [HeaderField], body: [UInt8] = []) {
        self.status = status
        self.headerFields = headerFields
        self.body = body
    }

    package func value(of name: String) -> [UInt8]? {
        headerFields.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The bytes for the web server. A HEAD answer has the same header but no body.
    ///
    /// `Location` comes before `Status`. RFC 3875 gives CGI header fields no order, and nginx and Apache take
    /// either; but HAProxy before its fix for bug #2865 (Debian bookworm's 2.6.12 among them) lets a `Location`
    /// read after `Status` set the code to 302, which turns a form_post callback into a GET without its body.
    package func serialized(includingBody: Bool = true) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(160 + headerFields.reduce(0) { $0 + $1.value.count } + body.count)
        for field in headerFields where field.name == "Location" {
            bytes += field.name.utf8
            bytes += ": ".utf8
            bytes += field.value
            bytes += "\r\n".utf8
        }
        // Appended piece by piece: an interpolated String would be a native string buffer, built and freed.
        bytes += "Status: ".utf8
        bytes += String(status.rawValue).utf8
        bytes.append(UInt8(ascii: " "))
        bytes += status.reasonPhrase.utf8
        bytes += "\r\n".utf8
        for field in headerFields where field.name != "Location" {
            bytes += field.name.utf8
            bytes += ": ".utf8
            bytes += field.value
            bytes += "\r\n".utf8
        }
        bytes += "\r\n".utf8
        if includingBody {
            bytes += body
        }
        return bytes
    }

    /// The fields every answer carries: the code and the state must stay out of caches, and out of the
    /// `Referer` the next page would send.
    static let sharedFields = [HeaderField("Cache-Control", "no-store"), HeaderField("Referrer-Policy", "no-referrer")]

    static let emptyContentLength = HeaderField("Content-Length", "0")

    /// The 307: `Location` is the only field built from the request, and no body. The fields go into one array:
    /// concatenated, they took five allocations per request (perf, bench/profile).
    static func redirect(to location: [UInt8]) -> CGIResponse {
        var fields: [HeaderField] = []
        fields.reserveCapacity(2 + sharedFields.count)
        fields.append(HeaderField("Location", location))
        fields += sharedFields
        fields.append(emptyContentLength)
        return CGIResponse(status: .temporaryRedirect, headerFields: fields)
    }

    /// The answer to a GET or HEAD without a query: a reachability check (a provider's console testing the URI at
    /// registration, a monitor), not a callback. The provider is a validated slug, so the text stays fixed per
    /// provider and holds nothing else from the request.
    static func reachability(of provider: ProviderSlug) -> CGIResponse {
        .plainText(.ok, text: "This is the OAuth callback endpoint for \(provider.name).")
    }

    /// An error or the reachability answer: a fixed text that never repeats anything from the request.
    static func plainText(_ status: HTTPStatus, text: String, extraFields: [HeaderField] = []) -> CGIResponse {
        let body = Array((text + "\n").utf8)
        return CGIResponse(
            status: status,
            headerFields: extraFields + [HeaderField("Content-Type", "text/plain; charset=utf-8")] + sharedFields + [
                HeaderField("X-Content-Type-Options", "nosniff"), HeaderField("Content-Length", String(body.count)),
            ],
            body: body
        )
    }
}
