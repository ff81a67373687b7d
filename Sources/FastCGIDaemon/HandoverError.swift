import OAuthForward

/// A handover variable that cannot be used: set by hand, or left over from somewhere else.
package struct HandoverError: Error, Equatable {
    package let value: String
    package var reason = "it does not parse"

    package init(value: String, reason: String = "it does not parse") {
        self.value = value
        self.reason = reason
    }

    package var message: String {
        "\(Handover.variable)=\"\(MessageText.escaped(value))\" cannot be used: \(reason). It is set only by serve reloading itself; unset it"
    }
}
