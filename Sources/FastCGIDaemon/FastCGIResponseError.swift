/// Why bytes from a FastCGI application are not an answer to the request that was sent.
package enum FastCGIResponseError: Error, Equatable, Sendable {
    /// The first byte of a record is not version 1: the peer speaks something else, HTTP perhaps.
    case notFastCGI(firstByte: UInt8)
    /// A record for another request than the one sent.
    case otherRequest(UInt16)
    /// A record of a type an application never sends to a web server.
    case unexpectedType(UInt8)
    /// END_REQUEST shorter than its 8 bytes.
    case shortEndRequest
    /// More STDOUT and STDERR than `FastCGIResponseReader.maximumOutput`.
    case tooLong
    /// STDOUT holds no header section that an empty line ends.
    case noHeaders
    /// A Status header field that is not three digits and a reason phrase.
    case malformedStatus

    package var message: String {
        switch self {
        case .notFastCGI(let byte):
            "it does not speak FastCGI (its first byte is 0x\(String(byte, radix: 16, uppercase: true)), not 0x01)"
        case .otherRequest(let id): "it answered request \(id), not request \(FastCGIRequest.requestID)"
        case .unexpectedType(let type): "it sent a record of type \(type), which no application sends"
        case .shortEndRequest: "its END_REQUEST record is too short"
        case .tooLong: "its answer is longer than \(FastCGIResponseReader.maximumOutput >> 10) KiB"
        case .noHeaders: "its answer has no CGI header section"
        case .malformedStatus: "its Status header is not a three-digit code and a reason"
        }
    }
}
