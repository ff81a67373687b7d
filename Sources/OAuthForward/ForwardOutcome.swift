/// The answer to one request and the line that records it.
public struct ForwardOutcome: Equatable, Sendable {
    public let response: CGIResponse
    public var log: RequestLog
    /// A HEAD answer has the header and no body.
    let isHead: Bool

    /// The bytes to write to the web server.
    public var responseBytes: [UInt8] { response.serialized(includingBody: !isHead) }
}
