/// The answer to one request and the line that records it.
package struct ForwardOutcome: Equatable, Sendable {
    package let response: CGIResponse
    package var log: RequestLog
    /// A HEAD answer has the header and no body.
    let isHead: Bool

    /// The bytes to write to the web server.
    package var responseBytes: [UInt8] { response.serialized(includingBody: !isHead) }

    /// `responseBytes` in `buffer`, emptied first, reusing its storage: the daemon keeps one buffer per thread.
    package func writeResponse(into buffer: inout [UInt8]) {
        buffer.removeAll(keepingCapacity: true)
        response.serialize(into: &buffer, includingBody: !isHead)
    }
}
