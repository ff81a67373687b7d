@testable import OAuthForward

func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

func configuration(_ target: String = "sandbox-us", providers: String? = nil) -> Configuration {
    try! Configuration(target: bytes(target), providers: providers.map(bytes))
}

func respond(
    method: String? = "GET",
    path: String? = "/oura",
    query: [UInt8] = [],
    role: String? = nil,
    configuration: ConfigurationResult = .success(configuration())
) -> ForwardOutcome {
    Forwarder.respond(
        to: CGIRequest(method: method.map(bytes), pathInfo: path.map(bytes), query: query, role: role.map(bytes)),
        configuration: configuration
    )
}

extension ForwardOutcome {
    var status: Int { response.status.rawValue }
    var location: [UInt8]? { response.value(of: "Location") }
}
