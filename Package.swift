// swift-tools-version: 6.0
import PackageDescription

// Layering (docs/ARCHITECTURE.md): a module only imports modules listed below it.
//   InCTRLCLI (executable `inctrl`)
//   PostgresStore    (a PromptSetStore over PostgreSQL; the CLI picks it from `store`)
//   Service
//   HTTP1            InCTRL
//                    CLIP
//   Imaging          Tensor
//                    CKernels (our own kernels in C, where Swift cannot reach AVX-512)
//   C shims: CDNNL (oneDNN), CSPNG (libspng), CTurboJPEG (libjpeg-turbo), CZlib, COpenSSL,
//            CEpoll (Linux epoll and eventfd), CLibPQ (libpq)
let package = Package(
    name: "inctrl-serve",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "inctrl", targets: ["InCTRLCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        .systemLibrary(name: "CSPNG", path: "Sources/CSPNG", pkgConfig: "spng"),
        .systemLibrary(name: "CTurboJPEG", path: "Sources/CTurboJPEG", pkgConfig: "libturbojpeg"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
        .systemLibrary(name: "CEpoll", path: "Sources/CEpoll"),
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ"),

        // Runs its threads on libgomp's team, the OpenMP runtime Debian's oneDNN is built on.
        .target(name: "CKernels", linkerSettings: [.linkedLibrary("gomp"), .linkedLibrary("m")]),
        .target(name: "Tensor", dependencies: ["CDNNL", "CKernels", "COpenSSL"]),
        .target(name: "Imaging", dependencies: ["CSPNG", "CTurboJPEG"]),
        .target(
            name: "CLIP", dependencies: ["Tensor", "CZlib"],
            // The HTML entity table, data written by tools/make_html_entity_table.py.
            resources: [.embedInCode("Resources/html-entities.txt")]),
        .target(name: "InCTRL", dependencies: ["CLIP", "Tensor", "Imaging"]),
        .target(name: "HTTP1", dependencies: ["CEpoll", "COpenSSL"]),
        .executableTarget(name: "http1-echo", dependencies: ["HTTP1"], path: "Benchmarks/http1-echo"),
        .target(
            name: "Service",
            dependencies: [
                "HTTP1", "InCTRL", "CLIP", "Imaging", "Tensor",
                .product(name: "Logging", package: "swift-log"),
            ],
            // The API contract, compiled into the binary as bytes: openapi.yaml at the
            // repository's root is the one source (Resources/openapi.yaml links to it).
            // The web console served at GET /, one self-contained page, likewise.
            resources: [.embedInCode("Resources/openapi.yaml"), .embedInCode("Resources/console.html")]),
        .target(name: "PostgresStore", dependencies: ["Service", "InCTRL", "Tensor", "CLibPQ"]),
        .executableTarget(name: "imaging-bench", dependencies: ["Imaging"], path: "Benchmarks/ImagingBench"),
        .executableTarget(name: "InCTRLCLI", dependencies: [
            "Service", "PostgresStore", "HTTP1", "InCTRL", "CLIP", "Imaging", "Tensor",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging"]),
        .testTarget(name: "CLIPTests", dependencies: ["CLIP", "Tensor"]),
        .testTarget(name: "InCTRLTests", dependencies: ["InCTRL", "CLIP", "Tensor", "Imaging"]),
        .testTarget(name: "HTTP1Tests", dependencies: ["HTTP1"]),
        .testTarget(name: "ServiceTests", dependencies: ["Service", "PostgresStore", "HTTP1", "InCTRL"]),
    ],
    swiftLanguageModes: [.v6]
)
