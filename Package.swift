// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "oauth-forward-cgi",
    products: [
        .executable(name: "oauth-forward-cgi", targets: ["oauth-forward-cgi"])
    ],
    dependencies: [
        // Flags for the daemon and the check tool; never touched on a CGI request.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        // Debian's libfcgi-dev, through a one-header shim. Only FastCGIDaemon imports it.
        .systemLibrary(
            name: "CFastCGI",
            pkgConfig: "fcgi",
            providers: [.apt(["libfcgi-dev"])]
        ),
        // glibc's epoll, which Swift's Glibc module leaves out. Linked by libc itself.
        .systemLibrary(name: "CEpoll"),
        // memfd_create and its seals, which glibc declares only under _GNU_SOURCE: a reload's configuration.
        .systemLibrary(name: "CLinux"),
        // The command line as glibc passes it to constructors, for the static release build's Swift runtime, which
        // would otherwise read /proc/self/maps on every start (Sources/CStartup/startup.c).
        .target(name: "CStartup"),
        // The request contract: bytes in, bytes out. No I/O, no C, no Foundation.
        .target(name: "OAuthForward"),
        // Serving: plain CGI, the FastCGI worker, the supervisor, the listener, shutdown and process I/O. It hides
        // libfcgi and epoll behind `internal import`, as swift-nio's NIOPosix hides CNIOLinux.
        .target(name: "FastCGIDaemon", dependencies: ["CFastCGI", "CEpoll", "CLinux", "OAuthForward"]),
        // A thin executable: how it was started, and the commands.
        .executableTarget(
            name: "oauth-forward-cgi",
            dependencies: [
                "FastCGIDaemon", "OAuthForward", "CStartup",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "OAuthForwardTests", dependencies: ["OAuthForward"]),
        .testTarget(name: "FastCGIDaemonTests", dependencies: ["FastCGIDaemon"]),
        // Runs the built binary as CGI and behind real FastCGI peers and web servers. It takes the daemon's defaults and
        // the variables' names from the libraries rather than copying them.
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["oauth-forward-cgi", "FastCGIDaemon", "OAuthForward", "CTestSupport"]
        ),
        // The forwarder's fuzz harness, built against the library as scripts/fuzz builds it into libFuzzer: each seed
        // in fuzz/corpus must select the setup it names, and the token seeds must reach the state token.
        .testTarget(
            name: "FuzzSeedTests", dependencies: ["OAuthForward"], path: "fuzz",
            exclude: ["corpus", "make-seeds", "StateFuzz.swift"]
        ),
        // glibc's pipe2 and posix_spawn_file_actions_addclosefrom_np, for the tests' descriptors.
        .systemLibrary(name: "CTestSupport", path: "Tests/CTestSupport"),
    ]
)
