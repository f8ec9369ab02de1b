import Foundation

/// Locates the Keras-made fixtures in the repository's Fixtures/ folder (see Fixtures/README.md),
/// for the test targets. Not a product.
public enum FixtureFiles {
    public static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    public static func path(_ relative: String) -> String {
        directory.appendingPathComponent(relative).path
    }

    /// Fixture names and which Keras wrote them, from Fixtures/manifest.json.
    public static func manifest() throws -> [(name: String, writers: [String])] {
        try manifestFixtures().map { ($0["name"] as? String ?? "", $0["writers"] as? [String] ?? []) }
    }

    private static func manifestFixtures() throws -> [[String: Any]] {
        let data = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        let root = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        return root["fixtures"] as? [[String: Any]] ?? []
    }

    /// An activation of a fixture and a close cousin of it, with the Keras 3 outputs of the same
    /// model and inputs when every use of the activation is the cousin
    /// (`<fixture>/<prefix>0.npy`, ...; see ACTIVATION_COUSINS in Fixtures/generate_fixtures.py).
    public struct ActivationCousin {
        public var fixture: String
        /// The Keras config name of the activation ("gelu", "silu", "hard_sigmoid"...).
        public var activation: String
        /// The cousin's name: a Keras activation name ("relu") or a variant ("gelu_tanh").
        public var cousin: String
        public var prefix: String
    }

    /// Every activation cousin listed in Fixtures/manifest.json.
    public static func activationCousins() throws -> [ActivationCousin] {
        try manifestFixtures().flatMap { fixture in
            (fixture["activation_cousins"] as? [[String: Any]] ?? []).map {
                ActivationCousin(fixture: fixture["name"] as? String ?? "", activation: $0["activation"] as? String ?? "",
                                 cousin: $0["cousin"] as? String ?? "", prefix: $0["prefix"] as? String ?? "")
            }
        }
    }

    /// The file a test takes when one of a fixture's files will do, relative to Fixtures/, and
    /// whose expected outputs go with it: the Keras 3 archive, or `tfkeras.h5` for a fixture
    /// saved by tf_keras only (none today; the generator's `writers` option allows it).
    public static func mainModel(of fixture: (name: String, writers: [String])) -> (file: String, writer: String) {
        fixture.writers.contains("keras3") ? ("\(fixture.name)/keras3.keras", "keras3") : ("\(fixture.name)/tfkeras.h5", "tfkeras")
    }

    /// Every way a fixture is stored by `writer`: the model file and, for architecture JSON,
    /// its weights file.
    public static func files(of fixture: String, writer: String) -> [(model: String, weights: String?)] {
        let base = "\(fixture)/\(writer)"
        switch writer {
        case "keras3":
            return [(path(base + ".keras"), nil), (path(base + ".h5"), nil),
                    (path(base + ".json"), path(base + ".weights.h5"))]
        default:
            return [(path(base + ".h5"), nil), (path(base + ".json"), path(base + "_weights.h5"))]
        }
    }

    /// A fresh temporary directory, removed by the caller.
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rnnkit-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
