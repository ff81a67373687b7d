// libFuzzer target for auto mode's reading of the state token, on its own: the query scan, percent-decoding,
// base64url and the JSON reader. Every input is used four ways: as a query, as a JWT payload (raw to the JSON
// reader, and wrapped in a token in a query), and as base64url and percent-encoded text for differential checks
// against decoders written here. Built by scripts/fuzz; see docs/SECURITY.md.

// Foundation is only the harness's second opinion on JSON; the library itself never links it.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func stateFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = deepNestingTerminates
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    checkQuery(input)
    checkPayload(input)
    checkDecoders(input)
    return 0
}

let everyEnvironment = JunctionEnvironment.allCases

/// The environment whose audience is exactly `audience`, from the harness's own table.
func environment(ofAudience audience: [UInt8]) -> String? {
    junctionAudiences.first { $0.value.contains { bytes($0) == audience } }?.key
}

/// A `.junction` finding must hold up when the query is read again here, independently: exactly one parameter
/// named `state`, three dot-separated parts, and a payload whose `aud`, as Foundation reads it, is one of the
/// environment's audiences.
func checkQuery(_ query: [UInt8]) {
    let finding = StateToken.find(in: query, allowed: everyEnvironment)
    let states = splitBytes(query, at: bytes("&")).filter { !$0.isEmpty }.filter { parameter in
        let name = parameter.prefix { $0 != UInt8(ascii: "=") }
        return formDecoded(Array(name)) == bytes("state")
    }
    switch finding {
    case .duplicate:
        require(states.count >= 2, "duplicate with \(states.count) state parameters: \(escaped(query))")
    case .other(why: .noState):
        require(states.isEmpty, "no_state with a state parameter: \(escaped(query))")
    case .other:
        require(states.count == 1, "one state expected: \(escaped(query))")
    case .junction(let environment):
        require(states.count == 1, "junction with \(states.count) state parameters: \(escaped(query))")
        let value = Array(states[0].drop { $0 != UInt8(ascii: "=") }.dropFirst())
        guard let token = formDecoded(value) else { fatalError("invariant broken: junction from a bad escape") }
        let parts = splitBytes(token, at: bytes("."))
        require(parts.count == 3 && !parts[0].isEmpty && !parts[1].isEmpty, "junction from a non-JWT")
        guard let payload = strictBase64URLDecoded(parts[1]) else {
            fatalError("invariant broken: junction from bad base64: \(escaped(query))")
        }
        // Foundation gives up on some valid JSON (a number like 1E400); then the library's own reading of the
        // payload must at least agree with the finding.
        let audience: [UInt8]
        if let object = foundationObject(payload) {
            guard let aud = object["aud"] as? String else {
                fatalError("invariant broken: junction, but Foundation reads no string aud: \(escaped(payload))")
            }
            audience = Array(aud.utf8)
        } else if case .audience(let aud) = JSONAudience.read(payload) {
            audience = aud
        } else {
            fatalError("invariant broken: junction from a payload without aud: \(escaped(payload))")
        }
        require(
            junctionAudiences[environment.rawValue]!.contains { bytes($0) == audience },
            "junction \(environment.rawValue) for aud \(escaped(audience)): \(escaped(query))")
    }
    // Nothing is forwarded to an environment that was not allowed.
    if case .junction = StateToken.find(in: query, allowed: []) {
        fatalError("invariant broken: a junction finding with no environment allowed: \(escaped(query))")
    }
}

/// The JSON reader on its own, and the same payload carried in a token: both must say the same thing.
func checkPayload(_ payload: [UInt8]) {
    let direct = JSONAudience.read(payload)
    // JSON text is UTF-8 (RFC 8259): whatever the reader's own validator says, the standard library's must agree.
    if String(validating: payload, as: UTF8.self) == nil {
        require(direct == .malformed, "invalid UTF-8 read as \(direct): \(escaped(payload))")
    }
    let query = bytes("code=1&state=") + jwtHeader + bytes(".") + base64URLEncoded(payload) + bytes(".c2ln")
    let finding = StateToken.find(in: query, allowed: everyEnvironment)
    if payload.isEmpty {
        // An empty middle part is no JWT at all, before any JSON is read.
        require(finding == .other(why: .notAJWT), "empty payload, but \(finding)")
        return
    }
    switch direct {
    case .malformed:
        require(finding == .other(why: .badJSON), "malformed JSON, but \(finding): \(escaped(payload))")
    case .noAudience:
        require(finding == .other(why: .noAudience), "no aud, but \(finding): \(escaped(payload))")
        if let object = foundationObject(payload) {
            require(!(object["aud"] is String), "no aud, but Foundation reads one: \(escaped(payload))")
        }
    case .audience(let audience):
        if let name = environment(ofAudience: audience) {
            require(finding == .junction(JunctionEnvironment(rawValue: name)!), "aud of \(name), but \(finding)")
        } else {
            require(finding == .other(why: .foreignAudience), "foreign aud, but \(finding): \(escaped(payload))")
        }
        // Foundation gives up on some valid JSON (numbers it cannot represent); where it reads the text, it must
        // read the same aud.
        if let object = foundationObject(payload) {
            let theirs = (object["aud"] as? String).map { Array($0.utf8) }
            require(theirs == audience, "aud \(escaped(audience)), Foundation: \(theirs.map { escaped($0) } ?? "nil")")
        }
    }
}

/// The library's percent and base64url decoders against the ones written here.
func checkDecoders(_ input: [UInt8]) {
    require(StateToken.percentDecoded(input) == formDecoded(input), "percent-decoding differs: \(escaped(input))")
    let theirs = StateToken.base64URLDecoded(input)
    let ours = strictBase64URLDecoded(input)
    require(theirs == ours, "base64url differs on \(escaped(input)): \(theirs.map { escaped($0) } ?? "nil")")
    if let ours {
        require(strictBase64URLDecoded(base64URLEncoded(ours)) == ours, "base64url round trip")
    }
}

/// Nesting far beyond the reader's bound must end in `.malformed`, not in a stack overflow. Checked once per run.
let deepNestingTerminates: Bool = {
    for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
        let depth = 200_000
        let text = bytes(String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth))
        require(JSONAudience.read(text) == .malformed, "nesting of \(depth) \(open) is not malformed")
        let wrapped = bytes("{\"aud\":\"https://api.us.junction.com/v2/link\",\"x\":") + text + bytes("}")
        require(JSONAudience.read(wrapped) == .malformed, "nesting inside an object is not malformed")
        let query = bytes("state=") + jwtHeader + bytes(".") + base64URLEncoded(wrapped) + bytes(".c2ln")
        require(StateToken.find(in: query, allowed: everyEnvironment) == .other(why: .badJSON), "deep token")
    }
    return true
}()

func foundationObject(_ payload: [UInt8]) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any]
}

/// Form decoding as the README describes it: `%XX` to its byte, `+` to a space, nil for a broken escape.
func formDecoded(_ text: [UInt8]) -> [UInt8]? {
    func hexDigit(_ byte: UInt8) -> UInt8? {
        let digits = bytes("0123456789abcdef")
        return digits.firstIndex(of: byte | (byte >= UInt8(ascii: "A") ? 0x20 : 0)).map(UInt8.init)
    }
    var decoded: [UInt8] = []
    var index = 0
    while index < text.count {
        switch text[index] {
        case UInt8(ascii: "%"):
            guard index + 2 < text.count, let high = hexDigit(text[index + 1]), let low = hexDigit(text[index + 2])
            else { return nil }
            decoded.append(high * 16 + low)
            index += 3
        case UInt8(ascii: "+"):
            decoded.append(UInt8(ascii: " "))
            index += 1
        default:
            decoded.append(text[index])
            index += 1
        }
    }
    return decoded
}

/// base64url as RFC 4648 section 5 has it, padding optional but exact when present, no stray bits: decodes by
/// encoding every candidate back, so it shares no code or arithmetic with the library's decoder.
func strictBase64URLDecoded(_ text: [UInt8]) -> [UInt8]? {
    var body = text
    var padding = 0
    while body.last == UInt8(ascii: "=") {
        body.removeLast()
        padding += 1
    }
    if padding > 0 && (padding > 2 || (body.count + padding) % 4 != 0) { return nil }
    let alphabet = bytes("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    var values: [UInt8] = []
    for byte in body {
        guard let value = alphabet.firstIndex(of: byte) else { return nil }
        values.append(UInt8(value))
    }
    guard values.count % 4 != 1 else { return nil }
    var decoded: [UInt8] = []
    var index = 0
    while index < values.count {
        let group = values[index..<min(index + 4, values.count)]
        let word = group.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (18 - 6 * UInt32($1.offset)) }
        let count = group.count - 1
        decoded += (0..<count).map { UInt8(truncatingIfNeeded: word >> (16 - 8 * UInt32($0))) }
        index += 4
    }
    // Canonical only: encoding the result again must give the same characters.
    return base64URLEncoded(decoded) == body ? decoded : nil
}
