import Testing

@testable import FastCGIDaemon

#if canImport(Glibc)
import Glibc
#endif

/// The one pass over a request's parameters that finds every name the daemon reads (issue 22).
@Suite struct FastCGIParametersTests {
    /// Runs `find` over `parameters` as libfcgi holds them, a NULL-terminated array of `NAME=value` C strings, and
    /// returns what it found for each of `names`, copied out.
    static func found(_ names: [String], in parameters: [String]) -> [String?] {
        let strings = parameters.map { strdup($0)! }
        defer { strings.forEach { free($0) } }
        var array: [UnsafeMutablePointer<CChar>?] = strings + [nil]
        var result: [String?] = []
        array.withUnsafeMutableBufferPointer { envp in
            FastCGIParameters.find(ParameterNames(names), in: envp.baseAddress) { found in
                result = names.indices.map { index in found.copy(index).map { String(decoding: $0, as: UTF8.self) } }
            }
        }
        return result
    }

    @Test func findsEachNameWhereverItIs() {
        let names = ["REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "OAUTH_FORWARD_TARGET", "OAUTH_FORWARD_PROVIDERS"]
        let parameters = [
            "SCRIPT_NAME=/oauth_callback", "QUERY_STRING=code=1&state=a=b", "REQUEST_METHOD=GET", "HTTP_HOST=x",
            "OAUTH_FORWARD_TARGET=production-us", "PATH_INFO=/oura",
        ]
        #expect(
            Self.found(names, in: parameters) == ["GET", "/oura", "code=1&state=a=b", "production-us", nil])
    }

    @Test func anEmptyValueIsSetAndAMissingOneIsNot() {
        #expect(Self.found(["QUERY_STRING", "PATH_INFO"], in: ["QUERY_STRING="]) == ["", nil])
        #expect(Self.found(["QUERY_STRING"], in: []) == [nil])
    }

    /// As `FCGX_GetParam`, which returns the first match.
    @Test func theFirstOfTwoParametersWithOneNameWins() {
        #expect(Self.found(["PATH_INFO"], in: ["PATH_INFO=/oura", "PATH_INFO=/evil"]) == ["/oura"])
    }

    /// Names that share a first byte, or that start another name, are told apart by the `=` after the whole name.
    @Test func onlyTheWholeNameFollowedByAnEqualsSignMatches() {
        let names = ["PATH_INFO", "PATH", "OAUTH_FORWARD_PATH_PREFIX"]
        let parameters = [
            "PATH_INFOX=/no", "PATH_INF=/no", "PATH_INFO", "PATHX=/no", "OAUTH_FORWARD_PATH=/no",
            "OAUTH_FORWARD_PATH_PREFIX=/p", "PATH=/bin", "PATH_INFO=/fitbit",
        ]
        #expect(Self.found(names, in: parameters) == ["/fitbit", "/bin", "/p"])
    }

    @Test func aValueMayHoldAnyByteButNUL() {
        #expect(Self.found(["QUERY_STRING"], in: ["QUERY_STRING=a=b&c=%00\u{1}\u{7F}é"]) == ["a=b&c=%00\u{1}\u{7F}é"])
    }
}
