import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A small, seedable generator, so a failing run can be repeated exactly (`FASTCGI_FUZZ_SEED`).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Mutated FastCGI record streams against the running daemon, while legitimate requests run beside them.
enum FastCGIMutator {
    static func validStream(_ random: inout SplitMix64) -> [UInt8] {
        let keep = Bool.random(using: &random)
        var stream = FastCGIRecord.request(
            Daemon.parameters(method: ["GET", "POST", "HEAD"].randomElement(using: &random)!, query: "code=1&state=z"),
            body: Bool.random(using: &random) ? bytes("a=1&b=2") : [], keepConnection: keep)
        if keep && Bool.random(using: &random) {
            stream += FastCGIRecord.request(Daemon.parameters(query: "second=1"), keepConnection: true)
        }
        return stream
    }

    /// One to four mutations of the kinds that reach libfcgi's parser: header fields, lengths, padding, record
    /// order, truncation, interleaved ids, management records, and the two known crashers. A truncation can leave
    /// fewer bytes than a record header, so a header field is changed only where the stream still has it.
    static func mutate(_ input: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var stream = input
        func setHeader(_ offset: Int, _ value: UInt8) {
            if offset < stream.count { stream[offset] = value }
        }
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            guard !stream.isEmpty else { break }
            let position = Int.random(in: 0..<stream.count, using: &random)
            switch Int.random(in: 0..<12, using: &random) {
            case 0: stream[position] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
            case 1: stream[position] = UInt8.random(in: 0...255, using: &random)
            case 2: setHeader(0, [0, 2, 255].randomElement(using: &random)!)  // version
            case 3: setHeader(1, UInt8.random(in: 0...12, using: &random))  // type
            case 4:  // request id: 0 (management), another, or the highest
                let id: UInt16 = [0, 2, 0xFFFF].randomElement(using: &random)!
                setHeader(2, UInt8(id >> 8))
                setHeader(3, UInt8(id & 0xFF))
            case 5: setHeader(6, UInt8.random(in: 0...255, using: &random))  // padding length
            case 6: stream = Array(stream.prefix(position))  // truncated
            case 7:  // a record repeated
                let record = Array(stream[0..<min(stream.count, 16)])
                stream.insert(contentsOf: record, at: position)
            case 8:  // a second request id interleaved
                stream += FastCGIRecord.request(Daemon.parameters(query: "other=1"), requestID: 7)
            case 9:  // GET_VALUES, a management record
                stream =
                    FastCGIRecord.record(
                        type: FastCGIRecord.getValues, requestID: 0, content: [0x0E, 0x00] + bytes("FCGI_MAX_CONNS"))
                    + stream
            case 10:  // a name-value pair with a 4-byte length that lies
                let lie: [UInt8] = [0x80 | UInt8.random(in: 0...0x7F, using: &random), 0xFF, 0xFF, 0xFF]
                stream += FastCGIRecord.record(type: FastCGIRecord.params, content: lie + [1, 0x61, 0x62])
            default:
                stream =
                    Bool.random(using: &random)
                    ? LibFCGICrashers.oversizedParams : LibFCGICrashers.getValuesOverflow
            }
        }
        return stream
    }

    /// Sends a stream on its own connection, half-closes it, and reads whatever comes back, briefly.
    static func send(_ stream: [UInt8], to path: String) {
        guard let connection = try? FastCGIConnection(unixPath: path, timeout: 0.5) else { return }
        connection.send(stream)
        shutdown(connection.fd, Int32(SHUT_WR))
        _ = connection.readAnswer()
    }
}

extension ServerSuites {
    @Suite struct FastCGIProtocolFuzzTests {
        /// The fixed seed of the short run, so that `./scripts/test` sends the same streams every time.
        static let defaultSeed: UInt64 = 20_261_129

        /// The mutator is test code that runs inside the test process: a mutation that traps would take the whole
        /// suite down with it. Every seed of a wide range, run through the mutator alone, must come back.
        @Test func mutatorHandlesEveryStreamItMakes() {
            var shortest = Int.max
            for seed in UInt64(0)..<20_000 {
                var random = SplitMix64(state: seed)
                let stream = FastCGIMutator.mutate(FastCGIMutator.validStream(&random), &random)
                shortest = min(shortest, stream.count)
            }
            // Truncation reaches below a record header's eight bytes, the case that once trapped.
            #expect(shortest < 8)
        }

        /// `FASTCGI_FUZZ_ITERATIONS` (default 400) mutated streams from `FASTCGI_FUZZ_SEED` (default a fixed seed;
        /// `random` for a new one, which the test prints first so that a failing run can be repeated).
        @Test func daemonKeepsAnsweringThroughMutatedRecordStreams() throws {
            let environment = ProcessInfo.processInfo.environment
            let iterations = environment["FASTCGI_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 400
            let seed: UInt64
            switch environment["FASTCGI_FUZZ_SEED"] {
            case nil, "": seed = Self.defaultSeed
            case "random": seed = UInt64.random(in: 0...UInt64.max)
            case let text?:
                guard let value = UInt64(text) else {
                    Issue.record("FASTCGI_FUZZ_SEED must be a number or 'random', not '\(text)'")
                    return
                }
                seed = value
            }
            FileHandle.standardError.write(Data("FastCGI protocol fuzzer: seed \(seed), \(iterations) streams\n".utf8))
            // One thread per worker: a crash then costs the attacker's connection and nothing else.
            let daemon = try Daemon(["--workers", "3", "--threads", "1", "--idle-timeout", "1"])
            try daemon.waitForWorkers(3)

            let stop = Locked(false)
            let answered = Locked(0)
            let failures = Locked([String]())
            let done = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                var index = 0
                while !stop.withLock({ $0 }) {
                    let expected = Daemon.redirect(to: Daemon.productionOura + bytes("?legit=\(index)"))
                    if let answer = try? daemon.get(query: "legit=\(index)", timeout: 10), answer.stdout == expected {
                        answered.withLock { $0 += 1 }
                    } else {
                        failures.withLock { $0.append("legitimate request \(index)") }
                    }
                    index += 1
                }
                done.signal()
            }

            var random = SplitMix64(state: seed)
            for _ in 0..<iterations {
                FastCGIMutator.send(
                    FastCGIMutator.mutate(FastCGIMutator.validStream(&random), &random), to: daemon.socketPath)
            }
            stop.withLock { $0 = true }
            #expect(done.wait(timeout: .now() + 30) == .success)
            #expect(failures.withLock { $0 }.isEmpty, "seed \(seed): \(failures.withLock { $0 })")
            #expect(answered.withLock { $0 } > 0)
            try daemon.waitForWorkers(3)
            #expect(
                try daemon.get(query: "after=1").stdout
                    == Daemon.redirect(to: Daemon.productionOura + bytes("?after=1")))
        }
    }
}
