@testable import RNNKit
import RNNKitTestSupport
import XCTest

/// TimeDistributed of layers other than Dense, beyond the `time_distributed_any` fixture:
/// shapes, weights, masks and the inner layers it refuses.
final class TimeDistributedTests: XCTestCase {
    private func wrap(_ className: String, _ config: JSONValue) throws -> LayerKind {
        let wrapper: JSONValue = ["layer": ["class_name": .string(className), "config": config]]
        return try LayerKind(kerasClass: "TimeDistributed", config: KerasConfig(object: wrapper.objectValue!,
                                                                                pointer: "/config", kerasMajorVersion: 3))
    }

    func testShapesAndWeightsAreTheInnerLayersPerStep() throws {
        let lstm = try wrap("LSTM", ["units": 3])
        XCTAssertEqual(try lstm.outputShapes(for: [[nil, 4, 6, 2]]), [[nil, 4, 3]])
        XCTAssertEqual(try lstm.weightSpecs(for: [[nil, 4, 6, 2]]).map(\.keras3Path),
                       ["layer/cell/vars/0", "layer/cell/vars/1", "layer/cell/vars/2"])
        XCTAssertEqual(try LayoutConversion.tensorNames(of: lstm, in: .pytorch), ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"])
        let batchNorm = try wrap("BatchNormalization", [:])
        XCTAssertEqual(try batchNorm.weightSpecs(for: [[nil, 4, 6, 2]]).map(\.trainable), [true, true, false, false])
        XCTAssertThrowsError(try lstm.outputShapes(for: [[nil, 4, 2]]), "rank 3 leaves the LSTM a rank-2 step")
    }

    func testEachStepIsComputedAloneAndTheMaskPassesThrough() throws {
        let flatten = try wrap("Flatten", [:])
        let input = LayerValue(Tensor(shape: [1, 2, 2, 2], scalars: (0..<8).map(Float.init)), mask: [true, false])
        let output = try flatten.forward([input], weights: [:], carry: nil).outputs[0]
        XCTAssertEqual(output.tensor, Tensor(shape: [1, 2, 4], scalars: (0..<8).map(Float.init)))
        XCTAssertEqual(output.mask, input.mask)
        let pool = try wrap("GlobalMaxPooling1D", [:])
        XCTAssertEqual(try pool.forward([input], weights: [:], carry: nil).outputs[0].tensor,
                       Tensor(shape: [1, 2, 2], scalars: [2, 3, 6, 7]))
    }

    func testInnerLayersThatCannotRunPerStepAreRefused() {
        let cases: [(String, JSONValue, String)] = [
            ("Masking", [:], "mask for every step"),
            ("Embedding", ["input_dim": 5, "output_dim": 2, "mask_zero": true], "mask_zero"),
            ("LSTM", ["units": 2, "return_state": true], "return_state"),
            ("Concatenate", [:], "several inputs"),
            ("TimeDistributed", ["layer": ["class_name": "Dense", "config": ["units": 2]]], "does not nest wrappers"),
        ]
        for (className, config, reason) in cases {
            XCTAssertThrowsError(try wrap(className, config), className) { error in
                let error = error as? RNNKitError
                XCTAssertEqual(error?.location, "/config/layer", className)
                XCTAssertTrue(error?.message.contains(reason) == true, "\(String(describing: error?.message))")
            }
        }
    }
}
