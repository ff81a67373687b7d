import ArgumentParser
import FastCGIDaemon
import OAuthForward

#if canImport(Glibc)
import Glibc
#endif

/// One real request to a running daemon, for Docker's HEALTHCHECK, monitoring and scripts.
struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send one FastCGI callback to a running daemon; exit 0 only if it answers 307 with the query.",
        discussion: """
            It sends what nginx sends for GET /oauth_callback/probe?error=probe&state=probe: a callback of its \
            own, an error callback and never a code, because a GET with an empty query is a reachability check \
            that the daemon answers 200 without forwarding. It prints the status and the time from connecting to \
            the end of the answer, such as "307 Temporary Redirect in 0.4 ms". Only a 307 whose Location ends \
            with ?error=probe&state=probe passes. Any other status (the 200 of a reachability check too), a \
            connection that fails and an answer that is not complete within --timeout exit 1 (Docker's \
            HEALTHCHECK reserves 2), with the reason on stderr. The daemon logs the request as any other: \
            provider=probe, query_bytes=23.

            Example: oauth-forward-cgi probe /run/oauth-forward-cgi/oauth-forward-cgi.sock
            """
    )

    @Argument(
        help: ArgumentHelp(
            "The daemon's socket: a unix socket path, or a numeric address such as 127.0.0.1:9000 or [::1]:9000.",
            valueName: "ADDR"))
    var address: String

    @Option(help: "The provider to ask for: with OAUTH_FORWARD_PROVIDERS set, one of its names.")
    var provider: String = HealthProbe.defaultProvider

    @Option(
        name: .customLong("param"),
        help: ArgumentHelp(
            "A FastCGI parameter to send as the web server's fastcgi_param would, such as "
                + "OAUTH_FORWARD_TARGET=production-us where only the web server sets the target. Repeatable.",
            valueName: "NAME=VALUE"))
    var parameters: [String] = []

    @Option(help: "Seconds the whole exchange may take, from connecting to the end of the answer.")
    var timeout: Double = HealthProbe.defaultTimeout.seconds

    func validate() throws {
        _ = try target()
        guard ProviderSlug(provider.utf8) != nil else {
            throw ValidationError("--provider must be \(ProviderSlug.rule)")
        }
        let range = HealthProbe.timeoutRange
        guard range.contains(.seconds(timeout)) else {
            throw ValidationError(
                "--timeout must be \(range.lowerBound.seconds.formatted) to \(range.upperBound.seconds.formatted) seconds"
            )
        }
        for parameter in parameters
        where (parameter.firstIndex(of: "=") ?? parameter.startIndex) == parameter.startIndex {
            throw ValidationError("--param takes NAME=VALUE, such as OAUTH_FORWARD_TARGET=production-us")
        }
    }

    private func target() throws -> ListenAddress {
        do throws(ListenAddressError) {
            return try ListenAddress(parsing: address)
        } catch {
            throw ValidationError(error.message(naming: "ADDR"))
        }
    }

    func run() throws {
        let target = try target()
        // A value goes out byte for byte, as the web server would send it.
        let extra = parameters.map { parameter in
            let bytes = ProcessIO.rawArgument(decodingTo: parameter)
            let equals = bytes.firstIndex(of: UInt8(ascii: "="))!
            return (name: Array(bytes[..<equals]), value: Array(bytes[(equals + 1)...]))
        }
        let request = HealthProbe.request(provider: Array(provider.utf8), extra: extra)
        let start = ContinuousClock.now
        let exchange = HealthProbe.exchange(request, with: target, timeout: .seconds(timeout))
        let elapsed = start.duration(to: .now)
        let failure: String
        switch exchange.map({ HealthProbe.verdict(on: $0, after: elapsed) }) {
        case .success(.success(let line)):
            ProcessIO.writeAll(line + "\n", to: 1)
            return
        case .success(.failure(let verdict)): failure = verdict.message
        case .failure(let error): failure = error.message
        }
        ProcessIO.writeAll(failure + "\n", to: 2)
        throw ExitCode(1)
    }
}
