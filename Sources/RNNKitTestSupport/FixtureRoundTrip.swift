import Foundation
import RNNKit
import XCTest

extension FixtureFiles {
    /// A fixture's model inputs (`input_0.npy`, `input_1.npy`, ...), in model input order.
    public static func inputs(of fixture: String) throws -> [Tensor] {
        try numbered(fixture, "input_")
    }

    /// Keras's outputs for a fixture's inputs, as `writer` ("keras3" or "tfkeras") computed them
    /// (`expected_<writer>_0.npy`, `_1`, ...), in model output order.
    public static func kerasOutputs(of fixture: String, writer: String) throws -> [Tensor] {
        try numbered(fixture, "expected_\(writer)_")
    }

    /// The tensors of `<fixture>/<prefix>0.npy`, `<prefix>1.npy`, ... up to the first missing one.
    public static func numbered(_ fixture: String, _ prefix: String) throws -> [Tensor] {
        var tensors: [Tensor] = []
        while case let file = path("\(fixture)/\(prefix)\(tensors.count).npy"), FileManager.default.fileExists(atPath: file) {
            tensors.append(try TensorFile.read(file)[0].tensor)
        }
        return tensors
    }

    /// The fixtures with a layer called more than once (a nested model's layers, once per call of
    /// the model), which RNNKit's own formats, one call per layer, refuse.
    public static let fixturesWithSharedLayers: Set = ["nested_siamese"]

    /// Writes every fixture (its `mainModel`, and its tf_keras `.h5` too when that holds classes the
    /// main file lacks) in every weight layout with `write`, reads it back with `read`, and checks: no
    /// errors and the original's warnings, the same layers, weights bit for bit, the same
    /// predictions (and so Keras's). `check` sees each written file for format-specific assertions. Layouts
    /// PyTorch cannot express, and fixtures with shared layers, must be refused with the reason.
    /// Returns the files written.
    @discardableResult
    public static func assertEveryFixtureRoundTrips(
        into directory: URL, fileExtension: String,
        write: (Model, WeightLayout, String) throws -> Void, read: (String) throws -> Model,
        check: (_ original: Model, _ layout: WeightLayout, _ path: String) throws -> Void = { _, _, _ in },
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> Int {
        var written = 0
        for fixture in try manifest() {
            for (source, writer) in try roundTripSources(fixture) {
                let original = try Model.load(contentsOf: path(source))
                let inputs = try self.inputs(of: fixture.name)
                let expected = try Predictor(original).predict(inputs)
                let keras = try kerasOutputs(of: fixture.name, writer: writer)
                for layout in WeightLayout.allCases {
                    let target = directory.appendingPathComponent("\(fixture.name)-\(writer)-\(layout).\(fileExtension)").path
                    let label = "\(fixture.name) \(source) \(layout)"
                    if fixturesWithSharedLayers.contains(fixture.name) {
                        XCTAssertThrowsError(try write(original, layout, target), label, file: file, line: line) { error in
                            XCTAssertTrue("\(error)".contains("RNNKit JSON holds layers called once"), "\(label): \(error)",
                                          file: file, line: line)
                        }
                        continue
                    }
                    do {
                        try write(original, layout, target)
                    } catch let error as RNNKitError where layout == .pytorch {
                        XCTAssertEqual(error.kind, .invalidModel, label, file: file, line: line)
                        XCTAssertTrue(error.message.contains("the pytorch layout cannot express"), error.message,
                                      file: file, line: line)
                        continue
                    }
                    let reread = try read(target)
                    XCTAssertEqual(reread.errors, [], label, file: file, line: line)
                    // Warnings (stateful layers) are the original's.
                    XCTAssertEqual(reread.warnings.map(\.message), original.warnings.map(\.message), label,
                                   file: file, line: line)
                    XCTAssertEqual(reread.layers.map(\.name), original.layers.map(\.name), label, file: file, line: line)
                    // The same classes (CuDNN layers stay CuDNN), but for operations: whatever Keras class
                    // or TFOpLambda they came from, RNNKit's formats store them as class Operation.
                    XCTAssertEqual(reread.layers.map(\.className), zip(original.layers, reread.layers).map { before, after in
                        after.className == "Operation" ? "Operation" : before.className
                    }, label, file: file, line: line)
                    for (before, after) in zip(original.layers, reread.layers) {
                        XCTAssertEqual(before.weights.mapValues { $0.scalars.map(\.bitPattern) },
                                       after.weights.mapValues { $0.scalars.map(\.bitPattern) },
                                       "\(label) \(before.name)", file: file, line: line)
                        XCTAssertEqual(before.weights.mapValues(\.shape), after.weights.mapValues(\.shape), label,
                                       file: file, line: line)
                    }
                    // The same weights and maths: the very numbers of the original, so Keras's within 1e-5.
                    let outputs = try Predictor(reread).predict(inputs)
                    XCTAssertEqual(outputs, expected, label, file: file, line: line)
                    assertClose(outputs, keras, label, file: file, line: line)
                    try check(original, layout, target)
                    written += 1
                }
            }
        }
        XCTAssertGreaterThan(written, 45, file: file, line: line)
        return written
    }

    /// The files a round trip starts from, with their writers: the fixture's main model, and the
    /// tf_keras `.h5` too when it holds a layer class the Keras 3 archive lacks (Keras 2's CuDNN layers).
    private static func roundTripSources(_ fixture: (name: String, writers: [String])) throws
        -> [(file: String, writer: String)] {
        let main = mainModel(of: fixture)
        let tfKerasFile = "\(fixture.name)/tfkeras.h5"
        guard main.writer == "keras3", FileManager.default.fileExists(atPath: path(tfKerasFile)) else { return [main] }
        let keras3 = try Model.load(contentsOf: path(main.file))
        let tfKeras = try Model.load(contentsOf: path(tfKerasFile))
        let onlyTFKeras = !Set(tfKeras.layers.map(\.className)).isSubset(of: Set(keras3.layers.map(\.className)))
        return [main] + (onlyTFKeras ? [(tfKerasFile, "tfkeras")] : [])
    }
}
