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
        let data = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        let root = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        let fixtures = root["fixtures"] as? [[String: Any]] ?? []
        return fixtures.map { ($0["name"] as? String ?? "", $0["writers"] as? [String] ?? []) }
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
