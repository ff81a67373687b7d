/// A configuration, or why there is none.
///
/// Not the standard library's `Result`: that type is resilient, so using it makes the runtime build its metadata
/// and check `Failure: Error` against every conformance record in the binary. Measured with callgrind on the
/// static release binary, that one lookup cost about 140,000 instructions, over a third of a CGI request;
/// scripts/test-instructions holds the budget.
package enum ConfigurationResult: Equatable, Sendable {
    case success(Configuration)
    case failure(ConfigurationError)

    package init(_ body: () throws(ConfigurationError) -> Configuration) {
        do {
            self = .success(try body())
        } catch {
            self = .failure(error)
        }
    }
}
