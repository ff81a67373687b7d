/// Where callbacks are forwarded: one of Junction's presets, or an absolute URL template holding `{provider}` at
/// most once, in its path, with no query or fragment of its own.
///
/// The template is split once, at configuration time, so building a `Location` is two appends and a copy of the
/// query bytes.
package struct ForwardTarget: Equatable, Sendable {
    package enum Kind: Equatable, Sendable {
        case preset(JunctionEnvironment)
        case template
    }

    package let kind: Kind
    /// The host, with its port if one was given. Logged in place of the whole URL.
    package let host: String
    /// The host without its port.
    package var hostName: Substring {
        if host.first == "[" { return host[...(host.firstIndex(of: "]") ?? host.startIndex)] }
        return host[..<(host.firstIndex(of: ":") ?? host.endIndex)]
    }
    /// Everything before `{provider}`, or the whole URL when the template has none.
    let head: [UInt8]
    /// Everything after `{provider}`; `nil` when the template names no provider.
    let tail: [UInt8]?

    package static let variable = ConfigurationVariable.target.name
    static let placeholder = Array("{provider}".utf8)

    /// A preset's template is Junction's own: it is taken as it is, not parsed, which a CGI start would pay for.
    /// `TargetTests` checks that parsing it gives the same target.
    package init(_ environment: JunctionEnvironment) {
        kind = .preset(environment)
        host = environment.host
        head = environment.callbackPrefixBytes
        tail = []
    }

    /// Parses a value of `OAUTH_FORWARD_TARGET`.
    package init(parsing value: [UInt8]) throws(TargetError) {
        if value.isEmpty { throw .empty }
        if let environment = JunctionEnvironment(preset: value) {
            self.init(environment)
            return
        }
        try self.init(parsingTemplate: value)
    }

    private init(parsingTemplate value: [UInt8]) throws(TargetError) {
        let https = Array("https://".utf8)
        let http = Array("http://".utf8)
        let authorityStart: Int
        let isPlainHTTP: Bool
        if value.starts(with: https) {
            authorityStart = https.count
            isPlainHTTP = false
        } else if value.starts(with: http) {
            authorityStart = http.count
            isPlainHTTP = true
        } else if value.contains(where: { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "/") }) {
            throw .unsupportedScheme
        } else {
            throw .unknownPreset
        }

        let authorityEnd = value[authorityStart...].firstIndex(of: UInt8(ascii: "/")) ?? value.endIndex
        let authority = value[authorityStart..<authorityEnd]
        if authority.contains(where: { $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "}") }) {
            throw .placeholderOutsidePath
        }
        try Self.validate(authority: authority)
        let host = String(decoding: authority, as: UTF8.self)
        if isPlainHTTP && !Self.isLoopback(authority: authority) { throw .plainHTTPNotLoopback }

        var head = Array(value[..<authorityEnd])
        var tail: [UInt8]? = nil
        var index = authorityEnd
        while index < value.endIndex {
            let byte = value[index]
            if byte == UInt8(ascii: "{") {
                guard value[index...].starts(with: Self.placeholder) else { throw .strayBrace }
                guard tail == nil else { throw .placeholderRepeated }
                tail = []
                index += Self.placeholder.count
                continue
            }
            switch byte {
            case UInt8(ascii: "?"): throw .hasQuery
            case UInt8(ascii: "#"): throw .hasFragment
            case UInt8(ascii: "}"): throw .strayBrace
            case UInt8(ascii: "%"):
                // The provider name would complete an escape: `%{provider}` with `2f` is an encoded slash.
                if value[(index + 1)...].starts(with: Self.placeholder) { throw .percentBeforePlaceholder }
                guard index + 2 < value.endIndex, value[index + 1].isASCIIHexDigit, value[index + 2].isASCIIHexDigit
                else { throw .invalidPercentEscape }
            default: guard Self.isPathByte(byte) else { throw .invalidCharacter }
            }
            if tail == nil { head.append(byte) } else { tail!.append(byte) }
            index += 1
        }
        self.kind = .template
        self.host = host
        self.head = head
        self.tail = tail
    }

    /// The preset name, or the host of a template: what a log line may say about the target.
    package var logName: String {
        switch kind {
        case .preset(let environment): environment.presetName
        case .template: host
        }
    }

    /// The `Location` for a provider and a raw query: the target, then `?` and the query bytes exactly as given.
    /// An empty query adds no `?`.
    package func location(provider: ProviderSlug, query: some Collection<UInt8>) -> [UInt8] {
        var location: [UInt8] = []
        location.reserveCapacity(head.count + provider.name.utf8.count + (tail?.count ?? 0) + 1 + query.count)
        location += head
        if let tail {
            location.append(utf8: provider.name)
            location += tail
        }
        if !query.isEmpty {
            location.append(UInt8(ascii: "?"))
            location += query
        }
        return location
    }

    /// `host` or `host:port` (RFC 3986 section 3.2): the host a bracketed IPv6 address, or dot-separated labels of
    /// letters, digits and inner hyphens, 1 to 63 bytes each (an IPv4 address is such a name); the port 1 to 65535
    /// with no leading zero. No user info: `@` is not a host byte.
    static func validate(authority: ArraySlice<UInt8>) throws(TargetError) {
        var host = authority
        var port: ArraySlice<UInt8>? = nil
        if authority.first == UInt8(ascii: "[") {
            guard let bracketEnd = authority.firstIndex(of: UInt8(ascii: "]")),
                IPv6Literal.isValid(authority[(authority.startIndex + 1)..<bracketEnd])
            else { throw .invalidHost }
            host = authority[...bracketEnd]
            let rest = authority[(bracketEnd + 1)...]
            if !rest.isEmpty {
                guard rest.first == UInt8(ascii: ":") else { throw .invalidHost }
                port = rest.dropFirst()
            }
        } else {
            if let colon = authority.firstIndex(of: UInt8(ascii: ":")) {
                host = authority[..<colon]
                port = authority[(colon + 1)...]
            }
            guard isHostName(host) else { throw .invalidHost }
        }
        if let port {
            guard (1...5).contains(port.count), port.allSatisfy(\.isASCIIDigit), port.first != UInt8(ascii: "0"),
                port.reduce(0, { $0 * 10 + Int($1 - UInt8(ascii: "0")) }) <= 65535
            else { throw .invalidPort }
        }
    }

    /// Labels of letters, digits and inner hyphens, 1 to 63 bytes each, between single dots. One pass and no
    /// allocation: a preset's template is checked on every CGI start.
    private static func isHostName(_ host: ArraySlice<UInt8>) -> Bool {
        var labelLength = 0
        var previous = UInt8(ascii: ".")
        for byte in host {
            if byte == UInt8(ascii: ".") {
                guard labelLength > 0, previous != UInt8(ascii: "-") else { return false }
                labelLength = 0
            } else {
                guard byte.isASCIIDigit || byte.isASCIILetter || byte == UInt8(ascii: "-") else { return false }
                guard labelLength > 0 || byte != UInt8(ascii: "-") else { return false }
                labelLength += 1
                guard labelLength <= 63 else { return false }
            }
            previous = byte
        }
        return labelLength > 0 && previous != UInt8(ascii: "-")
    }

    static func isLoopback(authority: ArraySlice<UInt8>) -> Bool {
        var host = authority
        if authority.first == UInt8(ascii: "[") {
            host = authority[...(authority.firstIndex(of: UInt8(ascii: "]")) ?? authority.endIndex - 1)]
        } else if let colon = authority.firstIndex(of: UInt8(ascii: ":")) {
            host = authority[..<colon]
        }
        return ["127.0.0.1", "[::1]", "localhost"].contains { host.elementsEqual($0.utf8) }
    }

    /// RFC 3986 path bytes: unreserved, sub-delims, `:`, `@`, `/` and `%` (for escapes the user wrote).
    private static func isPathByte(_ byte: UInt8) -> Bool {
        if byte.isASCIIDigit || byte.isASCIILetter { return true }
        return Array("-._~!$&'()*+,;=:@/%".utf8).contains(byte)
    }
}
