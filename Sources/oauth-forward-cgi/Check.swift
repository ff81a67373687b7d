import ArgumentParser
import FastCGIDaemon
import OAuthForward

/// What a request would get, without any server: the effective configuration and the exact answer.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the effective configuration and the answer a request would get.",
        discussion: """
            Example: oauth-forward-cgi check --target sandbox-us '/oura?code=abc&state=xyz'
            The argument is PATH_INFO and the query, as the web server passes them. A GET or HEAD without a \
            query is a reachability check, answered 200 OK with a short text and not forwarded; a POST without \
            one is a form_post callback, forwarded. Exits 0 when the answer is a 307 or that 200, 1 otherwise.
            """
    )

    @Argument(help: "PATH_INFO, then optionally ? and the query, e.g. /oura?code=abc")
    var request: String

    @Option(help: "The request method.")
    var method: String = "GET"

    @OptionGroup var targetOptions: TargetOptions

    func run() throws {
        // Bytes, not Strings, from the argument to the answer: the report shows what the CGI answer would carry.
        var report: [UInt8] = []
        func line(_ text: String) { report += Array(text.utf8) }
        // The same file serve reads (its OAUTH_FORWARD_OPTIONS are serve's, and do not matter here); without
        // --config, the one a CGI request reads beside the program, as shared hosting uses it.
        var file = try targetOptions.settingsFile(allowsOptions: true)?.configurationValues
        var fileName = targetOptions.config
        var refusal: ConfigurationError?
        if file == nil, let executable = ProcessIO.executablePath(),
            let path = ScriptSettings.path(besideScript: Array(executable.utf8))
        {
            switch ScriptSettingsFile.lookup(at: path, program: Array(executable.utf8)) {
            case .absent: break
            case .found(let found):
                file = found
                fileName = String(decoding: path, as: UTF8.self)
            case .refused(let error): refusal = error
            }
        }
        let layers = targetOptions.layers(file: file, fileName: fileName)
        report += layers.report
        let configuration = refusal.map { ConfigurationResult.failure($0) } ?? layers.values.configuration()
        switch configuration {
        case .success(let configuration):
            switch configuration.route {
            case .fixed(let target):
                line("route: always \(target.logName)\n")
            case .byState(let environments, let fallback):
                line(
                    "route: by the state token's aud, to "
                        + environments.map(\.presetName).joined(separator: ", ")
                        + "; other callbacks " + (fallback.map { "to \($0.logName)" } ?? "answer 400") + "\n")
            }
            line(
                "providers: "
                    + (configuration.allowlist.map { $0.providers.map(\.name).joined(separator: ",") } ?? "any") + "\n")
            line("PATH_INFO: \(configuration.pathPrefix.pattern), or with one / after the provider\n")
            line("without a query: GET and HEAD answer 200 (a reachability check, not forwarded); POST is forwarded\n")
        case .failure(let error):
            line("configuration error: \(error.message)\n")
        }
        let bytes = ProcessIO.rawArgument(decodingTo: request)
        let split = bytes.firstIndex(of: UInt8(ascii: "?"))
        let cgiRequest = CGIRequest(
            method: Array(method.utf8),
            pathInfo: Array(bytes[..<(split ?? bytes.endIndex)]),
            query: split.map { Array(bytes[($0 + 1)...]) } ?? [])
        let outcome = Forwarder.respond(to: cgiRequest, configuration: configuration)
        // The answer's lines end in LF here, for a terminal; its bytes are otherwise the CGI answer's.
        line("\n")
        let answer = outcome.responseBytes
        for (index, byte) in answer.enumerated()
        where byte != UInt8(ascii: "\r") || index + 1 == answer.count || answer[index + 1] != UInt8(ascii: "\n") {
            report.append(byte)
        }
        line("\nlog: " + outcome.log.line)
        ProcessIO.writeAll(report, to: 1)
        if outcome.response.status != .temporaryRedirect && outcome.response.status != .ok { throw ExitCode(1) }
    }
}
