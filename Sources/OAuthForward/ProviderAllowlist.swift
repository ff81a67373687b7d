/// The providers a deployment forwards, from `OAUTH_FORWARD_PROVIDERS=oura,fitbit`.
/// Spaces around names are ignored; an empty list or entry is an error rather than "allow everything".
public struct ProviderAllowlist: Equatable, Sendable {
    public static let variable = ConfigurationVariable.providers.name

    public let providers: [ProviderSlug]

    public init(parsing value: [UInt8]) throws(AllowlistError) {
        var providers: [ProviderSlug] = []
        for (position, entry) in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            .enumerated()
        {
            let name = entry.trimmingSpaces
            guard let slug = ProviderSlug(name) else {
                throw name.isEmpty ? .emptyEntry(position: position + 1) : .invalidEntry(position: position + 1)
            }
            providers.append(slug)
        }
        self.providers = providers
    }

    public func contains(_ provider: ProviderSlug) -> Bool {
        providers.contains(provider)
    }
}

/// Why a value of `OAUTH_FORWARD_PROVIDERS` was refused. Positions count from 1.
public enum AllowlistError: Error, Equatable, Sendable {
    case emptyEntry(position: Int)
    case invalidEntry(position: Int)

    public var problem: String {
        switch self {
        case .emptyEntry(let position): "has an empty entry at position \(position)"
        case .invalidEntry(let position): "has an entry at position \(position) that is not a provider name"
        }
    }
}
