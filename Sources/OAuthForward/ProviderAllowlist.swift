/// The providers a deployment forwards, from `OAUTH_FORWARD_PROVIDERS=oura,fitbit`.
/// Spaces around names are ignored; an empty list or entry is an error rather than "allow everything".
package struct ProviderAllowlist: Equatable, Sendable {
    package static let variable = ConfigurationVariable.providers.name

    package let providers: [ProviderSlug]

    package init(parsing value: [UInt8]) throws(AllowlistError) {
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

    package func contains(_ provider: ProviderSlug) -> Bool {
        providers.contains(provider)
    }
}
