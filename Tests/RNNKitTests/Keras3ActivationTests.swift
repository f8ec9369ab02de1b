@testable import RNNKit
import RNNKitTestSupport
import XCTest

/// Keras 3's added activations beyond the `activations_keras3` and `activations_mish` fixtures:
/// names and aliases, the row-wise ones, and the refusals.
final class Keras3ActivationTests: XCTestCase {
    private func decode(_ className: String, _ config: JSONValue) throws -> LayerKind {
        try LayerKind(kerasClass: className, config: KerasConfig(object: config.objectValue ?? JSONObject(),
                                                                 pointer: "/config", kerasMajorVersion: 3))
    }

    func testNamesRoundTripAndHardSwishIsHardSilu() throws {
        let names = ["celu", "hard_silu", "hard_tanh", "hard_shrink", "soft_shrink", "tanh_shrink", "sparse_plus",
                     "sparse_sigmoid", "squareplus", "mish", "log_sigmoid", "log_softmax", "sparsemax"]
        for name in names {
            XCTAssertEqual(Activation(kerasName: name, kerasMajorVersion: 3)?.kerasName, name)
        }
        XCTAssertEqual(Activation(kerasName: "hard_swish", kerasMajorVersion: 3), .hardSilu)
    }

    /// Values at the kinks, where a near-miss formula shows.
    func testElementwiseValuesAtTheirKinks() {
        let cases: [(Activation, Float, Float)] = [
            (.hardShrink, 0.5, 0), (.hardShrink, -0.6, -0.6), (.softShrink, -0.75, -0.25), (.softShrink, 0.4, 0),
            (.sparsePlus, -1, 0), (.sparsePlus, 0, 0.25), (.sparsePlus, 1, 1), (.sparseSigmoid, 0.5, 0.75),
            (.squareplus, 0, 1), (.hardTanh, -3, -1), (.hardSilu, -3, 0), (.hardSilu, 1, 2 / 3),
            (.celu, -1, -0.63212055), (.logSigmoid, 0, -0.6931472), (.mish, 1, 0.86509836), (.tanhShrink, 1, 0.23840582),
        ]
        for (activation, x, expected) in cases {
            XCTAssertEqual(activation(x), expected, accuracy: 1e-6, "\(activation.kerasName)(\(x))")
        }
    }

    /// Keras's sparsemax threshold sums the cumulative sums over the support: [1, 0.8, 0.1, -1]
    /// has support 2 and tau (1 + 1.8 − 1) / 2 = 0.9 (the paper's would be 0.4).
    func testRowWiseActivations() {
        var values: [Float] = [1, 0.8, 0.1, -1, 0.3, 0.2, 0.1, 0]
        Activation.sparsemax.apply(to: &values, width: 4)
        XCTAssertEqual(values, [0.1, 0, 0, 0, 0.05, 0, 0, 0].map { Float($0) }, accuracy: 1e-6)
        var logits: [Float] = [1, 2, 3]
        Activation.logSoftmax.apply(to: &logits, width: 3)
        XCTAssertEqual(logits, [-2.4076059, -1.4076059, -0.40760595], accuracy: 1e-6)
    }

    func testGluThresholdAndRowWiseRecurrentActivationsAreRefused() {
        let cases: [(String, JSONValue, String, String)] = [
            ("Dense", ["units": 2, "activation": "glu"], "/config/activation", "halves the last axis"),
            ("Activation", ["activation": "threshold"], "/config/activation", "cannot call it by name"),
            ("LSTM", ["units": 2, "recurrent_activation": "log_softmax"], "/config/recurrent_activation",
             "log_softmax is not an element-wise activation"),
            ("SimpleRNN", ["units": 2, "activation": "sparsemax"], "/config/activation",
             "sparsemax is not an element-wise activation"),
        ]
        for (className, config, location, reason) in cases {
            XCTAssertThrowsError(try decode(className, config), "\(className) \(config)") { error in
                let error = error as? RNNKitError
                XCTAssertEqual(error?.location, location)
                XCTAssertTrue(error?.message.contains(reason) == true, "\(String(describing: error?.message))")
            }
        }
    }
}

private func XCTAssertEqual(_ a: [Float], _ b: [Float], accuracy: Float, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
