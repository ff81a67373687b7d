@testable import OAuthForward

/// The text between `BEGIN generated: <name>` and `END generated` in the repository's documents and example
/// configurations, made from the code: the presets, the variables, the provider-name rule and the answers with
/// their header fields. `GeneratedTextTests` fails when a block is stale; `scripts/generate` rewrites them.
enum GeneratedText {
    /// How a block's lines sit in a file.
    enum Kind: Sendable {
        /// One paragraph, wrapped, each line behind the marker's comment prefix (`# `).
        case commentParagraph(String)
        /// Lines behind the marker's comment prefix, wrapped to the width that leaves.
        case commentLines(@Sendable (_ width: Int) -> [String])
        /// Lines as they are, whatever the marker's prefix: Markdown, or code.
        case lines([String])
    }

    /// The longest line a block writes.
    static let width = 118

    static let blocks: [String: Kind] = [
        "target": .commentParagraph(targetSentence),
        "variables": .commentLines {
            ConfigurationVariable.helpText(width: $0).split(separator: "\n").map(String.init)
        },
        "variables-table": .lines(ConfigurationVariable.markdownTable.split(separator: "\n").map(String.init)),
        "environments-table": .lines(environmentsTable),
        "answers-table": .lines(answersTable),
        "htaccess-rewrite": .lines(htaccessRewrite),
        "audiences": .lines(audiences),
        "log-example": .lines(["```"] + logExamples.map { $0.outcome().log.line } + ["```"]),
    ]

    /// The log lines docs/CONFIGURATION.md shows: a callback, and a path that is not a provider.
    static let logExamples = [Sample(query: "code=abc123&state=xyz%2B1"), Sample(path: "/Oura", query: "code=abc")]

    /// The sentence the example configurations give beside `OAUTH_FORWARD_TARGET`.
    static var targetSentence: String {
        let values = ConfigurationVariable.target.plainValues
        return "Where callbacks go (\(ConfigurationVariable.target.name)): " + values.prefix(1).lowercased()
            + values.dropFirst() + "."
    }

    /// Each preset, where it forwards to, and the `aud` of its Link Tokens in both host forms.
    static var environmentsTable: [String] {
        [
            "| Preset | Forwards to | `aud`, current host | `aud`, legacy host |",
            "|--------|-------------|---------------------|--------------------|",
        ]
            + JunctionEnvironment.allCases.map { environment in
                let audiences = environment.linkAudiences.map { "`" + String(decoding: $0, as: UTF8.self) + "`" }
                return "| `\(environment.presetName)` | `\(environment.callbackTemplate)` | "
                    + audiences.joined(separator: " | ") + " |"
            }
    }

    /// `[a-z0-9_]`, as `ProviderSlug.rule` words it.
    static var providerCharacters: String { String(ProviderSlug.rule.split(separator: " ").last ?? "") }

    /// A provider name as a regular expression.
    static var providerPattern: String { "\(providerCharacters){1,\(ProviderSlug.maximumLength)}" }

    /// htaccess.example's rules, which map only the names the program accepts.
    static var htaccessRewrite: [String] {
        [
            "RewriteCond %{THE_REQUEST} \"^[A-Z]+ [^?# ]*/oauth_callback/\(providerPattern)/?[? ]\"",
            "RewriteRule ^oauth_callback/(\(providerPattern)/?)$ cgi-bin/oauth-forward.cgi/$1 [END]",
        ]
    }

    /// fuzz/make-seeds' Link audiences, one seed each.
    static var audiences: [String] {
        ["AUDIENCES = {"]
            + JunctionEnvironment.allCases.map { environment in
                let audiences = environment.linkAudiences.map { "\"" + String(decoding: $0, as: UTF8.self) + "\"" }
                return "    \"\(environment.presetName)\": [" + audiences.joined(separator: ", ") + "],"
            } + ["}"]
    }

    /// One row of the answer table: requests of one kind, what the program answers them, and why. The status and
    /// the header fields are the answer `Forwarder` gives each sample, which must all agree.
    struct Answer: Sendable {
        var request: String
        var samples: [Sample]
        var notes: String
    }

    struct Sample: Sendable, CustomStringConvertible {
        var method = "GET"
        var path = "/oura"
        var query = "code=1&state=x"
        var role: String? = nil
        var variables: [String: String] = ["OAUTH_FORWARD_TARGET": "production-us"]
        /// Instead of `variables`: a configuration the settings file refused.
        var failure: ConfigurationError? = nil

        var description: String { "\(method) \(path)?\(query) with \(failure.map { "\($0)" } ?? "\(variables)")" }

        func outcome() -> ForwardOutcome {
            let configuration =
                failure.map { error in ConfigurationResult { () throws(ConfigurationError) in throw error } }
                ?? ConfigurationValues { variables[$0].map { Array($0.utf8) } }.configuration()
            return Forwarder.respond(
                to: CGIRequest(
                    method: Array(method.utf8), pathInfo: Array(path.utf8), query: Array(query.utf8),
                    role: role.map { Array($0.utf8) }),
                configuration: configuration)
        }
    }

    static let auto = ["OAUTH_FORWARD_TARGET": "auto", "OAUTH_FORWARD_ENVIRONMENTS": "production-us"]

    static let answers: [Answer] = [
        Answer(
            request: "GET, HEAD or POST to `/{provider}` with a query",
            samples: [Sample(), Sample(method: "HEAD"), Sample(method: "POST")],
            notes: "`Location` is the target, `?` and the query. 307 keeps the method, so a `form_post` provider's "
                + "browser posts its body on to the target. The program reads and discards a body."),
        Answer(
            request: "GET or HEAD to `/{provider}` without a query",
            samples: [Sample(query: ""), Sample(method: "HEAD", query: "")],
            notes: "A reachability check (a provider's console testing the URI at registration, a monitor), not a "
                + "callback: a callback always carries `code` or `error`, with `state`. A short fixed text that "
                + "names the endpoint (none for HEAD); nothing is forwarded; logged with `route=reachability`. In "
                + "every target mode, `auto` included."),
        Answer(
            request: "POST to `/{provider}` without a query",
            samples: [Sample(method: "POST", query: "")],
            notes: "A `form_post` callback, its fields in the body: `Location` is the target, without `?`"),
        Answer(
            request: "`/{provider}/`: one slash after the provider name",
            samples: [Sample(path: "/oura/"), Sample(method: "POST", path: "/oura/")],
            notes: "Answered as without the slash (without a query, a GET is a 200): forwarded to the same target, "
                + "without it; logged with `trailing_slash=1`. Two slashes, or anything after the slash, are a 404"),
        Answer(
            request:
                "Path not `/` plus \(ProviderSlug.rule.replacingOccurrences(of: providerCharacters, with: "`\(providerCharacters)`")) "
                + "and at most one `/` (after `OAUTH_FORWARD_PATH_PREFIX`, when it is set), or a provider outside "
                + "`OAUTH_FORWARD_PROVIDERS`",
            samples: [
                Sample(path: "/Oura"), Sample(path: "/oura//"), Sample(path: "/a/b"), Sample(path: ""),
                Sample(variables: ["OAUTH_FORWARD_TARGET": "production-us", "OAUTH_FORWARD_PROVIDERS": "fitbit"]),
                Sample(
                    variables: ["OAUTH_FORWARD_TARGET": "production-us", "OAUTH_FORWARD_PATH_PREFIX": "/callback"]),
            ],
            notes: "Nothing from the path reaches a header or the log"),
        Answer(
            request: "A control byte (0x00 to 0x1F, 0x7F) in the query",
            samples: [Sample(query: "code=1\u{1}"), Sample(query: "code=\u{7F}")],
            notes: ""),
        Answer(
            request: "With `auto`: more than one `state` parameter",
            samples: [
                Sample(query: "state=a&state=b", variables: auto),
                Sample(
                    query: "state=a&st%61te=b",
                    variables: auto.merging(["OAUTH_FORWARD_FALLBACK": "https://example.com/cb"]) { $1 }),
            ],
            notes: "Whatever the fallback: two parties could read different ones"),
        Answer(
            request: "With `auto` and no `OAUTH_FORWARD_FALLBACK`: a state that is not a Junction token of an "
                + "environment in `OAUTH_FORWARD_ENVIRONMENTS`",
            samples: [Sample(variables: auto), Sample(query: "code=1", variables: auto)],
            notes: "With a fallback, a 307 to it instead. [STATE-TOKEN.md](STATE-TOKEN.md) has each finding"),
        Answer(
            request: "Any other method",
            samples: [Sample(method: "PUT"), Sample(method: "OPTIONS"), Sample(method: "get")],
            notes: ""),
        Answer(
            request: "`OAUTH_FORWARD_TARGET` unset, empty or malformed; `OAUTH_FORWARD_PROVIDERS` or "
                + "`OAUTH_FORWARD_PATH_PREFIX` malformed; with `auto`, `OAUTH_FORWARD_ENVIRONMENTS` unset or "
                + "malformed, or an `OAUTH_FORWARD_FALLBACK` that is malformed, a preset or a Junction API host",
            samples: [
                Sample(variables: [:]), Sample(variables: ["OAUTH_FORWARD_TARGET": ""]),
                Sample(variables: ["OAUTH_FORWARD_TARGET": "production"]),
                Sample(variables: ["OAUTH_FORWARD_TARGET": "production-us", "OAUTH_FORWARD_PROVIDERS": "Oura"]),
                Sample(variables: ["OAUTH_FORWARD_TARGET": "production-us", "OAUTH_FORWARD_PATH_PREFIX": "x"]),
                Sample(variables: ["OAUTH_FORWARD_TARGET": "auto"]),
                Sample(variables: auto.merging(["OAUTH_FORWARD_ENVIRONMENTS": "production"]) { $1 }),
                Sample(variables: auto.merging(["OAUTH_FORWARD_FALLBACK": "ftp://example.com"]) { $1 }),
                Sample(variables: auto.merging(["OAUTH_FORWARD_FALLBACK": "sandbox-us"]) { $1 }),
                Sample(
                    variables: auto.merging(["OAUTH_FORWARD_FALLBACK": "https://api.eu.junction.com/{provider}"]) {
                        $1
                    }),
            ],
            notes: "The log line names the variable, the problem and the valid values or the fix"),
        Answer(
            request: "As CGI, an `oauth-forward-cgi.conf` that others could change or that has a mistake in it",
            samples: [
                Sample(failure: .settingsFile(path: "/x/oauth-forward-cgi.conf", .writableByOthers)),
                Sample(failure: .settingsFile(path: "/x/oauth-forward-cgi.conf", .tooLarge)),
            ],
            notes: "The log line names the file and the problem. [SHARED-HOSTING.md](SHARED-HOSTING.md) has the rules"
        ),
        Answer(
            request: "A FastCGI role other than RESPONDER",
            samples: [Sample(role: "AUTHORIZER"), Sample(role: "FILTER")],
            notes: ""),
    ]

    /// The header fields of an answer, as the table shows them: values that depend on the request left out.
    static func headerFields(of response: CGIResponse) -> String {
        response.headerFields.map { field in
            switch field.name {
            case "Location": "`Location`"
            case "Content-Length" where response.status != .temporaryRedirect: "`Content-Length`"
            default: "`\(field.name): \(String(decoding: field.value, as: UTF8.self))`"
            }
        }
        .joined(separator: ", ")
    }

    /// What the program answers, made by asking it.
    static var answersTable: [String] {
        ["| Request | Status | Header fields | Notes |", "|---------|--------|---------------|-------|"]
            + answers.map { answer in
                let response = answer.samples[0].outcome().response
                let status = "`\(response.status.rawValue) \(response.status.reasonPhrase)`"
                let body = response.body.isEmpty ? "" : " and a fixed `text/plain` body"
                return "| \(answer.request) | \(status) | \(headerFields(of: response))\(body) | \(answer.notes) |"
            }
    }
}
