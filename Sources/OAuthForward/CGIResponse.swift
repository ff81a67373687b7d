/// A CGI response: the `Status` pseudo-header, header fields and a body, as RFC 3875 section 6 frames them.
package struct CGIResponse: Equatable, Sendable {
    package let status: HTTPStatus
    /// A 307's `Location`; empty on every other answer.
    package let location: [UInt8]
    /// The header fields other than `Location`. They are fixed for each kind of answer: a 307 shares one array
    /// with every other 307 rather than building its own (an allocation per request in the daemon's profile).
    let otherFields: [HeaderField]
    /// What follows `Location`: the `Status` line, `otherFields` and the blank line, as bytes, built with them.
    private let head: [UInt8]
    package let body: [UInt8]

    init(status: HTTPStatus, location: [UInt8] = [], otherFields: [HeaderField], body: [UInt8] = []) {
        self.init(
            status: status, location: location, otherFields: otherFields, head: Self.head(status, otherFields),
            body: body)
    }

    private init(status: HTTPStatus, location: [UInt8], otherFields: [HeaderField], head: [UInt8], body: [UInt8] = []) {
        self.status = status
        self.location = location
        self.otherFields = otherFields
        self.head = head
        self.body = body
    }

    /// Every header field but `Status`, in the order they are written.
    package var headerFields: [HeaderField] {
        location.isEmpty ? otherFields : [HeaderField("Location", location)] + otherFields
    }

    package func value(of name: String) -> [UInt8]? {
        headerFields.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The bytes for the web server. A HEAD answer has the same header but no body.
    package func serialized(includingBody: Bool = true) -> [UInt8] {
        var bytes: [UInt8] = []
        serialize(into: &bytes, includingBody: includingBody)
        return bytes
    }

    /// Appends the bytes for the web server to `bytes`: the daemon reuses one buffer per thread.
    ///
    /// `Location` comes before `Status`. RFC 3875 gives CGI header fields no order, and nginx and Apache take
    /// either; but HAProxy before its fix for bug #2865 (Debian bookworm's 2.6.12 among them) lets a `Location`
    /// read after `Status` set the code to 302, which turns a form_post callback into a GET without its body.
    package func serialize(into bytes: inout [UInt8], includingBody: Bool = true) {
        bytes.reserveCapacity(bytes.count + 12 + location.count + head.count + body.count)
        if !location.isEmpty {
            bytes.append(utf8: "Location: ")
            bytes += location
            bytes.append(utf8: "\r\n")
        }
        bytes += head
        if includingBody {
            bytes += body
        }
    }

    /// The `Status` line, the fields and the blank line that ends the header.
    private static func head(_ status: HTTPStatus, _ fields: [HeaderField]) -> [UInt8] {
        var bytes: [UInt8] = []
        // Appended piece by piece: an interpolated String would be a native string buffer, built and freed.
        bytes.append(utf8: "Status: ")
        bytes.append(decimal: status.rawValue)
        bytes.append(UInt8(ascii: " "))
        bytes.append(utf8: status.reasonPhrase)
        bytes.append(utf8: "\r\n")
        for field in fields {
            bytes.append(utf8: field.name)
            bytes.append(utf8: ": ")
            bytes += field.value
            bytes.append(utf8: "\r\n")
        }
        bytes.append(utf8: "\r\n")
        return bytes
    }

    /// The fields every answer carries: the code and the state must stay out of caches, and out of the
    /// `Referer` the next page would send.
    static let sharedFields = [HeaderField("Cache-Control", "no-store"), HeaderField("Referrer-Policy", "no-referrer")]

    static let emptyContentLength = HeaderField("Content-Length", "0")

    /// A 307's fields after `Location`, and their bytes, built once for every 307.
    static let redirectFields = sharedFields + [emptyContentLength]
    private static let redirectHead = head(.temporaryRedirect, redirectFields)

    /// The 307: `Location` is the only field built from the request, and no body.
    static func redirect(to location: [UInt8]) -> CGIResponse {
        CGIResponse(status: .temporaryRedirect, location: location, otherFields: redirectFields, head: redirectHead)
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
            otherFields: extraFields + [HeaderField("Content-Type", "text/plain; charset=utf-8")] + sharedFields + [
                HeaderField("X-Content-Type-Options", "nosniff"), HeaderField("Content-Length", String(body.count)),
            ],
            body: body
        )
    }
}
