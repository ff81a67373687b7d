// libFuzzer target for the whole request contract: a method, a PATH_INFO, a query and a configuration made from
// the input bytes go through Forwarder.respond, and the CGI answer and the log line are checked against the rules
// the README promises. Built by scripts/fuzz; see docs/SECURITY.md.
//
// Input layout (a reader that runs out yields zeros and empty slices, so every input is a request):
//   [setup] [method] [role] [path mode] [query mode] {path chunk} {method chunk} {prefix chunk} query...
// where a chunk is a length byte and that many bytes, read only when its mode needs it.
//
// `swift test` builds this file too, as the FuzzSeedTests target, to check that each seed in fuzz/corpus/forwarder
// selects the setup it was written for: there the library is a module of its own.

#if canImport(OAuthForward)
@testable import OAuthForward
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func forwarderFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    ForwarderCase(input).check()
    return 0
}

/// A configuration to fuzz under, with what an answer under it may contain, written out independently.
struct Setup {
    /// What fuzz/make-seeds calls it: a seed names its setup, and make-seeds turns the name into the selecting byte
    /// by the setup's place in `all` (FuzzSeedTests checks that every seed lands there).
    let name: String
    let configuration: ConfigurationResult
    /// The URL templates a `Location` may be built from; empty when the configuration cannot serve at all.
    let destinations: [String]
    let isAuto: Bool
    let hasFallback: Bool
    let allowlist: [String]?
    /// What the log line's `target` may say.
    let logTargets: Set<String>
    /// `OAUTH_FORWARD_PATH_PREFIX`; empty when unset.
    let pathPrefix: [UInt8]

    init(
        name: String, target: String?, providers: String? = nil, environments: String? = nil, fallback: String? = nil,
        pathPrefix: String? = nil, destinations: [String], allowlist: [String]? = nil, logTargets: Set<String>
    ) {
        self.name = name
        configuration = ConfigurationValues(
            target: target.map(bytes), providers: providers.map(bytes), environments: environments.map(bytes),
            fallback: fallback.map(bytes), pathPrefix: pathPrefix.map(bytes)
        ).configuration()
        // A configuration that cannot serve strips nothing: its log line names the provider PATH_INFO alone holds.
        if case .success = configuration { self.pathPrefix = pathPrefix.map(bytes) ?? [] } else { self.pathPrefix = [] }
        self.destinations = destinations
        isAuto = target == "auto"
        hasFallback = fallback != nil
        self.allowlist = allowlist
        self.logTargets = logTargets
    }

    static let all: [Setup] = [
        Setup(
            name: "production-us",
            target: "production-us", destinations: [junctionCallbacks["production-us"]!],
            logTargets: ["production-us"]),
        Setup(
            name: "sandbox-eu-allowlist",
            target: "sandbox-eu", providers: "oura, fitbit ,google_fit",
            destinations: [junctionCallbacks["sandbox-eu"]!], allowlist: ["oura", "fitbit", "google_fit"],
            logTargets: ["sandbox-eu"]),
        Setup(
            name: "template",
            target: "https://auth.example.com/connect/{provider}/callback",
            destinations: ["https://auth.example.com/connect/{provider}/callback"], logTargets: ["auth.example.com"]),
        Setup(
            name: "template-port",
            target: "https://auth.example.com:8443/oauth/callback",
            destinations: ["https://auth.example.com:8443/oauth/callback"], logTargets: ["auth.example.com:8443"]),
        Setup(
            name: "loopback",
            target: "http://127.0.0.1:8080/cb/{provider}", destinations: ["http://127.0.0.1:8080/cb/{provider}"],
            logTargets: ["127.0.0.1:8080"]),
        // H2O's form: PATH_INFO is the whole path, and the prefix is named.
        Setup(
            name: "path-prefix",
            target: "production-us", pathPrefix: "/oauth_callback", destinations: [junctionCallbacks["production-us"]!],
            logTargets: ["production-us"]),
        Setup(
            name: "auto",
            target: "auto", environments: "sandbox-us,production-us",
            destinations: [junctionCallbacks["sandbox-us"]!, junctionCallbacks["production-us"]!],
            logTargets: ["auto", "sandbox-us", "production-us"]),
        Setup(
            name: "auto-fallback",
            target: "auto", environments: "sandbox-us,sandbox-eu,production-us,production-eu",
            fallback: "https://app.example.com/oauth/{provider}",
            destinations: Array(junctionCallbacks.values) + ["https://app.example.com/oauth/{provider}"],
            logTargets: Set(junctionCallbacks.keys).union(["auto", "app.example.com"])),
        Setup(
            name: "auto-eu-oura",
            target: "auto", providers: "oura", environments: "production-eu",
            fallback: "https://app.example.com/callback",
            destinations: [junctionCallbacks["production-eu"]!, "https://app.example.com/callback"],
            allowlist: ["oura"], logTargets: ["auto", "production-eu", "app.example.com"]),
        // Configurations that cannot serve: every answer is a 500.
        Setup(name: "unset", target: nil, destinations: [], logTargets: []),
        Setup(name: "bad-preset", target: "production", destinations: [], logTargets: []),
        Setup(name: "auto-no-environments", target: "auto", destinations: [], logTargets: []),
        Setup(
            name: "bad-providers", target: "production-us", providers: "oura,,fitbit", destinations: [], logTargets: []),
        Setup(name: "template-with-query", target: "https://auth.example.com/cb?x=1", destinations: [], logTargets: []),
        Setup(
            name: "bad-path-prefix", target: "production-us", pathPrefix: "/oauth_callback/", destinations: [],
            logTargets: []),
    ]
}

struct ForwarderCase {
    let setup: Setup
    let request: CGIRequest
    /// The query exactly as handed to the program.
    let query: [UInt8]

    static let slugAlphabet = bytes("abcdefghijklmnopqrstuvwxyz0123456789_")

    init(_ input: [UInt8]) {
        var reader = ByteReader(input)
        setup = Setup.all[Int(reader.byte()) % Setup.all.count]
        let methodChoice = reader.byte() % 10
        let roleChoice = reader.byte() % 8
        let pathMode = reader.byte() % 8
        let queryMode = reader.byte() % 4

        // Most paths are valid slugs, so that most inputs reach the query and the state token.
        let slugified = { (chunk: [UInt8]) in chunk.map { Self.slugAlphabet[Int($0) % Self.slugAlphabet.count] } }
        let pathInfo: [UInt8]? =
            switch pathMode {
            case 0: nil
            case 1: bytes("/") + reader.chunk()
            case 2: reader.chunk()
            case 5: setup.pathPrefix + bytes("/") + slugified(reader.chunk())
            case 6: bytes("/oura")
            case 7: bytes("/") + slugified(reader.chunk()) + bytes("/")
            default: bytes("/") + slugified(reader.chunk())
            }
        let methods: [[UInt8]?] = [
            bytes("GET"), bytes("GET"), bytes("HEAD"), bytes("POST"), bytes("PUT"), bytes("OPTIONS"), bytes("get"),
            nil, [],
        ]
        let method = methodChoice < methods.count ? methods[Int(methodChoice)] : reader.chunk()
        let role: [UInt8]? =
            switch roleChoice {
            case 6: bytes("RESPONDER")
            case 7: bytes("AUTHORIZER")
            default: nil
            }

        switch queryMode {
        case 2, 3:
            // A query around a state token whose payload is the fuzzer's bytes: reaches the JSON reader and the
            // audience match far more often than mutating base64 text does. Mode 3 sends the state twice.
            let prefix = reader.chunk()
            let token = jwtHeader + bytes(".") + base64URLEncoded(reader.rest()) + bytes(".c2ln")
            var built = prefix + bytes("&state=") + token
            if queryMode == 3 { built += bytes("&state=") + token }
            query = built
        default:
            query = reader.rest()
        }
        request = CGIRequest(method: method, pathInfo: pathInfo, query: query, role: role)
    }

    var context: String {
        "method=\(request.method.map { escaped($0) } ?? "nil") path=\(request.pathInfo.map { escaped($0) } ?? "nil") "
            + "role=\(request.role.map { escaped($0) } ?? "nil") query=\(escaped(query)) "
            + "configuration=\(setup.configuration)"
    }

    func check() {
        let outcome = Forwarder.respond(to: request, configuration: setup.configuration)
        let answer = ParsedAnswer(outcome.responseBytes, context: context)
        let status = outcome.response.status.rawValue
        require([200, 307, 400, 404, 405, 500].contains(status), "status \(status); \(context)")
        require(answer.status == status, "Status line \(answer.status) for \(status); \(context)")
        checkHeaders(answer, outcome: outcome)
        checkStatus(status, answer: answer, outcome: outcome)
        checkLog(outcome.log, status: status)
    }

    /// The header block: only the program's own fields, each once, none with a control byte, the body framed.
    func checkHeaders(_ answer: ParsedAnswer, outcome: ForwardOutcome) {
        let allowed: Set<String> = [
            "Location", "Cache-Control", "Referrer-Policy", "Content-Length", "Content-Type", "X-Content-Type-Options",
            "Allow",
        ]
        require(Set(answer.fields.map(\.name)).isSubset(of: allowed), "header names \(answer.fields.map(\.name))")
        require(Set(answer.fields.map(\.name)).count == answer.fields.count, "a repeated header; \(context)")
        require(answer.fields.count == outcome.response.headerFields.count, "header count changed; \(context)")
        require(answer.value("Cache-Control") == bytes("no-store"), "Cache-Control; \(context)")
        require(answer.value("Referrer-Policy") == bytes("no-referrer"), "Referrer-Policy; \(context)")
        let isHead = request.method == bytes("HEAD")
        require(answer.body == (isHead ? [] : outcome.response.body), "body framing; \(context)")
        require(
            answer.value("Content-Length") == bytes(String(outcome.response.body.count)),
            "Content-Length \(answer.value("Content-Length").map { escaped($0) } ?? "nil"); \(context)")
    }

    /// The answer the README's table gives this request, worked out here step by step.
    func checkStatus(_ status: Int, answer: ParsedAnswer, outcome: ForwardOutcome) {
        let location = answer.value("Location")
        let expected: Int
        if request.role.map({ $0 != bytes("RESPONDER") }) ?? false || setup.destinations.isEmpty {
            expected = 500
        } else if ![bytes("GET"), bytes("HEAD"), bytes("POST")].contains(request.method ?? []) {
            expected = 405
        } else if provider == nil || !(setup.allowlist.map { $0.contains(provider!) } ?? true) {
            expected = 404
        } else if query.isEmpty && request.method != bytes("POST") {
            // A GET or HEAD without a query is a reachability check, in every mode; a POST is a form_post callback.
            expected = 200
        } else if query.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            expected = 400
        } else if setup.isAuto {
            // 307, or a 400 when the state is not an allowed Junction token and nothing takes the rest, or the
            // state comes twice.
            expected = status == 400 && (!setup.hasFallback || outcome.log.state == "duplicate") ? 400 : 307
        } else {
            expected = 307
        }
        require(status == expected, "status \(status), expected \(expected); \(context)")
        if status == 405 {
            require(answer.value("Allow") == bytes("GET, HEAD, POST"), "Allow on a 405; \(context)")
        }

        if status == 200 {
            require(location == nil, "a Location on a 200; \(context)")
            require(
                outcome.response.body == bytes("This is the OAuth callback endpoint for \(provider ?? "?").\n"),
                "the reachability body; \(context)")
            require(outcome.log.route == "reachability", "a 200 without route=reachability; \(context)")
            return
        }
        guard status == 307 else {
            require(location == nil, "a Location on a \(status); \(context)")
            checkErrorBody(outcome.response.body, status: status)
            return
        }
        guard let location, let provider else { fatalError("a 307 without Location or provider; \(context)") }
        require(outcome.response.body.isEmpty, "a 307 with a body; \(context)")

        // The Location is one of the configured destinations for this provider, then the query as it came.
        let suffix = query.isEmpty ? [] : bytes("?") + query
        let bases = setup.destinations.map { bytes($0.replacingPlaceholder(with: provider)) }
        let base = bases.first { location == $0 + suffix }
        require(base != nil, "Location \(escaped(location)) is not a destination plus the query; \(context)")
        let prefixes = setup.destinations.map { bytes(String($0.prefix { $0 != "{" })) }
        require(prefixes.contains { location.starts(with: $0) }, "Location prefix; \(context)")
        if let mark = location.firstIndex(of: UInt8(ascii: "?")) {
            require(Array(location[(mark + 1)...]) == query, "the bytes after ? are not the query; \(context)")
        } else {
            require(query.isEmpty, "no ? but a query; \(context)")
        }

        if setup.isAuto {
            let junction = junctionCallbacks.first { bytes($0.value.replacingPlaceholder(with: provider)) == base }
            if let junction {
                require(
                    outcome.log.route == "aud_match" && outcome.log.target == junction.key,
                    "a Junction Location without aud_match to \(junction.key); \(context)")
            } else {
                require(outcome.log.route == "fallback", "a fallback Location without route=fallback; \(context)")
            }
        }
    }

    /// Error bodies are fixed texts, one per kind of refusal: nothing from the request can be in them.
    func checkErrorBody(_ body: [UInt8], status: Int) {
        require(Self.errorBodies.contains(body), "an error body that is not a fixed text: \(escaped(body))")
        // Implied by the line above, and spelt out as the README states it. A query that is itself part of a fixed
        // text ("callback.") is no leak.
        require(
            query.count < 8 || !occurs(query, in: body) || Self.errorBodies.contains { occurs(query, in: $0) },
            "the error body holds the query; \(context)")
        let path = request.pathInfo ?? []
        require(
            path.count < 8 || !occurs(path, in: body) || Self.errorBodies.contains { occurs(path, in: $0) },
            "the error body holds the path; \(context)")
    }

    static let errorBodies: [[UInt8]] = {
        var rejections: [Rejection] = [
            .unsupportedRole, .methodNotAllowed, .invalidProvider, .providerNotAllowed, .controlByteInQuery,
            .duplicateState, .stateNotJunction(.noState), .misconfigured(.target(.unset)),
        ]
        for setup in Setup.all {
            if case .failure(let error) = setup.configuration { rejections.append(.misconfigured(error)) }
        }
        return rejections.map(\.response.body)
    }()

    /// The provider as the README defines it: `/` and 1 to 64 of `[a-z0-9_]`, and at most one `/` after it, after
    /// the path prefix when one is set.
    var provider: String? {
        guard var path = request.pathInfo else { return nil }
        if !setup.pathPrefix.isEmpty {
            guard path.count > setup.pathPrefix.count, Array(path.prefix(setup.pathPrefix.count)) == setup.pathPrefix
            else { return nil }
            path = Array(path.dropFirst(setup.pathPrefix.count))
        }
        if path.count > 1 && path.last == UInt8(ascii: "/") { path.removeLast() }
        guard path.first == UInt8(ascii: "/"), (2...65).contains(path.count),
            path.dropFirst().allSatisfy({ Self.slugAlphabet.contains($0) })
        else { return nil }
        return String(decoding: path.dropFirst(), as: UTF8.self)
    }

    /// One line of fields that each come from a fixed vocabulary, and never the query.
    func checkLog(_ log: RequestLog, status: Int) {
        let line = bytes(log.line)
        require(line.last == UInt8(ascii: "\n"), "the log line does not end with a newline; \(context)")
        require(!line.dropLast().contains { $0 < 0x20 || $0 >= 0x7F }, "log: \(escaped(line)); \(context)")

        let method = request.method ?? []
        let methodIsToken =
            (1...16).contains(method.count)
            && method.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
        let expectedMethod =
            request.method == nil ? "-" : methodIsToken ? String(decoding: method, as: UTF8.self) : "invalid"
        require(log.method == expectedMethod, "log method \(log.method); \(context)")
        require(log.provider == provider, "log provider \(log.provider ?? "nil"); \(context)")
        require(log.status == status, "log status \(log.status); \(context)")
        require(log.queryLength == query.count, "log query_bytes \(log.queryLength); \(context)")
        require(log.target.map { setup.logTargets.contains($0) } ?? true, "log target \(log.target ?? ""); \(context)")
        require(
            [nil, "aud_match", "fallback", "rejected", "reachability"].contains(log.route), "log route; \(context)")
        let answered = status == 200 || status == 307
        let slash = provider != nil && request.pathInfo?.last == UInt8(ascii: "/")
        require(log.trailingSlash == (answered && slash), "log trailing_slash; \(context)")
        let states = [
            "no_state", "not_a_jwt", "bad_base64", "bad_json", "no_aud", "foreign_aud",
            "environment_not_allowed", "duplicate",
        ]
        require(log.state.map { states.contains($0) } ?? true, "log state \(log.state ?? ""); \(context)")
        require((log.reason == nil) == answered, "log reason on a \(status); \(context)")
        require(log.reason.map { Self.logReasons.contains($0) } ?? true, "log reason \(log.reason ?? "")")

        // Every field above comes from a fixed vocabulary, so a query holding a byte outside it cannot be in the
        // line unless it leaked. (A query made only of vocabulary bytes, like "status=307", may be there by chance.)
        if query.count >= 8 && query.contains(where: { !Self.logAlphabet[Int($0)] }) {
            require(!occurs(query, in: line), "the log line holds the query; \(context)")
        }
        let path = request.pathInfo ?? []
        if path.count >= 8 && path.contains(where: { !Self.logAlphabet[Int($0)] }) {
            require(!occurs(path, in: line), "the log line holds the path; \(context)")
        }
    }

    static let logReasons: Set<String> = {
        var rejections: [Rejection] = [
            .unsupportedRole, .methodNotAllowed, .invalidProvider, .providerNotAllowed, .controlByteInQuery,
            .duplicateState, .stateNotJunction(.noState),
        ]
        for setup in Setup.all {
            if case .failure(let error) = setup.configuration { rejections.append(.misconfigured(error)) }
        }
        return Set(rejections.map(\.logReason))
    }()

    /// Every byte a log line can hold without taking it from the query: its keys, the fixed values, the upper
    /// case of a method token, the slug alphabet of a provider, digits, and logfmt's quoting.
    static let logAlphabet: [Bool] = {
        var vocabulary = "app=oauth-forward-cgi method= provider= status= target= query_bytes= route= state= reason="
        vocabulary += " trailing_slash= reachability"
        vocabulary += "\"\\- invalid ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz0123456789_"
        vocabulary += "aud_match fallback rejected no_state not_a_jwt bad_base64 bad_json no_aud foreign_aud "
        vocabulary += "environment_not_allowed duplicate"
        vocabulary += logReasons.joined() + Setup.all.flatMap(\.logTargets).joined()
        var alphabet = [Bool](repeating: false, count: 256)
        for byte in vocabulary.utf8 { alphabet[Int(byte)] = true }
        return alphabet
    }()
}

/// A CGI answer split the way a web server splits it: the header block up to the first empty line, one field per
/// CRLF-ended line.
struct ParsedAnswer {
    let status: Int
    let fields: [(name: String, value: [UInt8])]
    let body: [UInt8]

    init(_ raw: [UInt8], context: @autoclosure () -> String) {
        let parts = splitBytes(raw, at: bytes("\r\n\r\n"))
        require(parts.count >= 2, "no end of the header block; \(context())")
        let head = parts[0]
        body = Array(raw[(head.count + 4)...])
        let lines = splitBytes(head, at: bytes("\r\n"))
        for line in lines {
            // A CR, an LF or any other control byte inside a line would let a client or proxy see another field.
            require(
                !line.contains { $0 < 0x20 || $0 == 0x7F },
                "a control byte in header line \(escaped(line)); \(context())")
        }
        let statusIndices = lines.indices.filter { lines[$0].starts(with: bytes("Status: ")) }
        require(statusIndices.count == 1 && lines[statusIndices[0]].count >= 11, "one status line; \(context())")
        let statusLine = lines[statusIndices[0]]
        status = Int(String(decoding: statusLine[8..<11], as: UTF8.self)) ?? 0
        // Location before Status: HAProxy before its fix for bug #2865 makes a later Location a 302.
        if let location = lines.firstIndex(where: { $0.starts(with: bytes("Location: ")) }) {
            require(location < statusIndices[0], "Location after Status; \(context())")
        }
        fields = lines.indices.filter { $0 != statusIndices[0] }.map { lines[$0] }.map { line in
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), line[(colon + 1)...].first == UInt8(ascii: " ")
            else { fatalError("invariant broken: header line without ': ' \(escaped(line)); \(context())") }
            return (String(decoding: line[..<colon], as: UTF8.self), Array(line[(colon + 2)...]))
        }
    }

    func value(_ name: String) -> [UInt8]? { fields.first { $0.name == name }?.value }
}

extension String {
    func replacingPlaceholder(with provider: String) -> String {
        let parts = splitBytes(bytes(self), at: bytes("{provider}"))
        return parts.count == 2 ? String(decoding: parts[0] + bytes(provider) + parts[1], as: UTF8.self) : self
    }
}
