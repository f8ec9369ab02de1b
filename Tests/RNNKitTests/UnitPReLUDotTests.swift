@testable import RNNKit
import RNNKitTestSupport
import XCTest

/// UnitNormalization, PReLU and Dot beyond what the `unit_prelu_dot` and `masked_prelu_unit`
/// fixtures show: several axes, the zero-norm floors of each Keras, batch_dot shapes, refusals.
final class UnitPReLUDotTests: XCTestCase {
    private func decode(_ className: String, _ config: JSONValue, major: Int = 3) throws -> LayerKind {
        try LayerKind(kerasClass: className, config: KerasConfig(object: config.objectValue ?? JSONObject(),
                                                                 pointer: "/config", kerasMajorVersion: major))
    }

    private func run(_ kind: LayerKind, _ inputs: [LayerValue], weights: [String: Tensor] = [:]) throws -> LayerValue {
        try kind.forward(inputs, weights: weights, carry: nil).outputs[0]
    }

    func testUnitNormalizationOverSeveralAxesDividesByTheWholeSliceNorm() throws {
        let input = LayerValue(Tensor(shape: [2, 2, 2], scalars: [1, 1, 1, 1, 3, 0, 0, 4]), mask: [true, false, true, true])
        let output = try run(try decode("UnitNormalization", ["axis": [1, 2]]), [input])
        assertClose([output.tensor], [Tensor(shape: [2, 2, 2], scalars: [0.5, 0.5, 0.5, 0.5, 0.6, 0, 0, 0.8])], "two axes")
        XCTAssertEqual(output.mask, input.mask, "the mask passes through")
        let time = try run(try decode("UnitNormalization", ["axis": 1]), [input])
        assertClose([time.tensor], [Tensor(shape: [2, 2, 2], scalars: [0.70710677, 0.70710677, 0.70710677, 0.70710677,
                                                                      1, 0, 0, 1])], "time axis")
    }

    /// Keras 3 caps 1/‖x‖ at 1e12 (UnitNormalization) or 1e7 (Dot); tf_keras floors Σx² at 1e-12.
    func testNearZeroVectorsFollowEachKerasFloor() throws {
        let tiny = LayerValue(Tensor(shape: [1, 2], scalars: [1e-8, 0]))
        XCTAssertEqual(try run(try decode("UnitNormalization", [:], major: 3), [tiny]).tensor.scalars[0], 1, accuracy: 1e-6)
        XCTAssertEqual(try run(try decode("UnitNormalization", [:], major: 2), [tiny]).tensor.scalars[0], 0.01, accuracy: 1e-8)
        let zero = LayerValue(Tensor(zeros: [1, 2]))
        XCTAssertEqual(try run(try decode("UnitNormalization", [:]), [zero]).tensor.scalars, [0, 0], "finite for a zero vector")
        let cosine = try decode("Dot", ["axes": 1, "normalize": true])
        XCTAssertEqual(try run(cosine, [tiny, tiny]).tensor.scalars[0], 0.01, accuracy: 1e-8, "Keras 3 Dot: 1e-8 · 1e7, squared")
        XCTAssertEqual(try run(cosine, [zero, zero]).tensor.scalars, [0])
    }

    func testDotShapesAndValuesFollowBatchDot() throws {
        let vectors = try decode("Dot", ["axes": -1])
        XCTAssertEqual(try vectors.outputShapes(for: [[nil, 3], [nil, 3]]), [[nil, 1]])
        let matrixVector = try decode("Dot", ["axes": [2, 1]])
        XCTAssertEqual(try matrixVector.outputShapes(for: [[nil, 5, 6], [nil, 6]]), [[nil, 5]])
        XCTAssertEqual(try decode("Dot", ["axes": [1, 3]]).outputShapes(for: [[nil, 3, 5], [nil, 2, 10, 3]]),
                       [[nil, 5, 2, 10]])
        XCTAssertThrowsError(try matrixVector.outputShapes(for: [[nil, 5, 6], [nil, 7]]), "6 against 7")
        XCTAssertThrowsError(try vectors.outputShapes(for: [[nil, 3]]), "one input")
        XCTAssertThrowsError(try decode("Dot", ["axes": 0]).outputShapes(for: [[nil, 3], [nil, 3]]), "batch axis")
        XCTAssertThrowsError(try decode("Dot", ["axes": 2]).outputShapes(for: [[nil, 5000, 1], [nil, 5000, 1]]), "25M values")
        // x [1, 2, 3] · y [1, 3] over (2, 1): each row of x against y.
        let x = LayerValue(Tensor(shape: [1, 2, 3], scalars: [1, 2, 3, 4, 5, 6]), mask: [true, false])
        let y = LayerValue(Tensor(shape: [1, 3], scalars: [1, 0, -1]))
        let output = try run(matrixVector, [x, y])
        XCTAssertEqual(output.tensor, Tensor(shape: [1, 2], scalars: [-2, -2]))
        XCTAssertNil(output.mask, "Dot drops the mask, as Keras does")
        // Over (1, 1): x's columns against a [1, 2, 2] identity-like y.
        let z = LayerValue(Tensor(shape: [1, 2, 2], scalars: [1, 0, 0, 2]))
        XCTAssertEqual(try run(try decode("Dot", ["axes": 1]), [x, z]).tensor,
                       Tensor(shape: [1, 3, 2], scalars: [1, 8, 2, 10, 3, 12]))
    }

    func testPReLUAlphaShapeAndBroadcast() throws {
        let shared = try decode("PReLU", ["shared_axes": [1]])
        XCTAssertEqual(try shared.weightSpecs(for: [[nil, nil, 4]]).map(\.shape), [[1, 4]])
        XCTAssertThrowsError(try decode("PReLU", [:]).weightSpecs(for: [[nil, nil, 4]]), "alpha over unknown steps")
        XCTAssertThrowsError(try decode("PReLU", ["shared_axes": [3]]).outputShapes(for: [[nil, 5, 4]]), "no axis 3")
        let input = LayerValue(Tensor(shape: [1, 2, 2], scalars: [-1, -2, 3, -4]), mask: [false, true])
        let alpha = Tensor(shape: [1, 2], scalars: [0.5, 0.25])
        let output = try run(shared, [input], weights: ["alpha": alpha])
        XCTAssertEqual(output.tensor.scalars, [-0.5, -0.5, 3, -1])
        XCTAssertEqual(output.mask, input.mask, "the mask passes through")
        XCTAssertThrowsError(try run(shared, [input], weights: ["alpha": Tensor(zeros: [3])]), "misshaped alpha")
    }

    func testInvalidConfigsAreRefusedWithTheirPlace() {
        let cases: [(String, JSONValue, String)] = [
            ("Dot", [:], "/config/axes"),
            ("Dot", ["axes": [1, 2, 3]], "/config/axes"),
            ("Dot", ["axes": 1, "normalize": "yes"], "/config/normalize"),
            ("PReLU", ["shared_axes": [0]], "/config/shared_axes"),
            ("PReLU", ["shared_axes": ["a"]], "/config/shared_axes/0"),
            ("UnitNormalization", ["axis": []], "/config/axis"),
        ]
        for (className, config, location) in cases {
            XCTAssertThrowsError(try decode(className, config), "\(className) \(config)") { error in
                XCTAssertEqual((error as? RNNKitError)?.location, location, "\(className) \(config): \(error)")
            }
        }
        XCTAssertThrowsError(try decode("UnitNormalization", ["axis": [2, -1]]).outputShapes(for: [[nil, 5, 4]]), "repeated")
    }

    func testPReLUAlphaKeepsItsNameInEveryLayout() throws {
        let prelu = try decode("PReLU", [:])
        for layout in [WeightLayout.keras, .split, .pytorch, .onnx] {
            XCTAssertEqual(try LayoutConversion.tensorNames(of: prelu, in: layout), ["alpha"], layout.rawValue)
        }
        let alpha = Tensor(shape: [5, 6], scalars: (0..<30).map(Float.init))
        XCTAssertEqual(try LayoutConversion.export(["alpha": alpha], of: prelu, to: .pytorch), ["alpha": alpha])
    }
}
