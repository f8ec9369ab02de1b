import Foundation
@testable import RNNKit
import RNNKitTestSupport
import XCTest

/// The fixtures tell every activation RNNKit supports from its close cousins (gelu from its tanh
/// form, relu6 from relu, swish from hard swish, selu from elu, Keras 3's hard_sigmoid from Keras
/// 2's...): Keras's outputs with the cousin in place of the activation, saved beside the fixture,
/// are more than 1e-3 away from the real ones. Since RNNKit must be within 1e-5 of the real
/// ones, an RNNKit computing a cousin would fail InferenceTests.
final class ActivationDiscriminationTests: XCTestCase {
    /// Every activation RNNKit supports, by Keras config name (swish is saved as "silu").
    private static let supported: [Activation] = [
        .linear, .tanh, .sigmoid, .relu, .elu, .selu, .softplus, .softsign, .swish, .gelu, .exponential, .relu6,
        .leakyRelu, .hardSigmoid(keras2: false), .softmax,
        .celu,
        .hardSilu,
        .hardTanh,
        .hardShrink,
        .softShrink,
        .tanhShrink,
        .sparsePlus,
        .sparseSigmoid,
        .squareplus,
        .mish,
        .logSigmoid,
        .logSoftmax,
        .sparsemax,
    ]

    /// How far apart a cousin must put the outputs (100 times Keras's tolerance).
    private let discrimination: Float = 1e-3

    func testEverySupportedActivationHasAFixtureThatTellsItFromItsCousins() throws {
        let cousins = try FixtureFiles.activationCousins()
        let checked = Set(cousins.map(\.activation))
        for activation in Self.supported {
            // Exhaustive, without default: a new kind of activation does not compile until it is listed above.
            switch activation {
            case .linear, .tanh, .sigmoid, .relu, .elu, .selu, .softplus, .softsign, .swish, .gelu, .exponential,
                 .relu6, .leakyRelu, .hardSigmoid, .softmax,
                 .celu,
                 .hardSilu,
                 .hardTanh,
                 .hardShrink,
                 .softShrink,
                 .tanhShrink,
                 .sparsePlus,
                 .sparseSigmoid,
                 .squareplus,
                 .mish,
                 .logSigmoid,
                 .logSoftmax,
                 .sparsemax:
                XCTAssertTrue(checked.contains(activation.kerasName), "no fixture checks \(activation.kerasName)")
            }
        }
        for (activation, cousin) in [("gelu", "gelu_tanh"), ("relu6", "relu"), ("silu", "hard_silu"), ("selu", "elu"),
                                     ("hard_sigmoid", "hard_sigmoid_keras2"), ("softplus", "relu")] {
            XCTAssertTrue(cousins.contains { $0.activation == activation && $0.cousin == cousin }, "\(activation) vs \(cousin)")
        }
    }

    func testCousinsMoveKerasOutputsBeyondTheTolerance() throws {
        let cousins = try FixtureFiles.activationCousins()
        XCTAssertGreaterThanOrEqual(cousins.count, Self.supported.count)
        for entry in cousins {
            let label = "\(entry.fixture): \(entry.activation) swapped for \(entry.cousin)"
            let expected = try FixtureFiles.kerasOutputs(of: entry.fixture, writer: "keras3")
            let cousinOutputs = try FixtureFiles.numbered(entry.fixture, entry.prefix)
            let moved = NumericDifference.between(cousinOutputs, expected)
            XCTAssertNil(moved.mismatch, label)
            XCTAssertGreaterThan(moved.largest, discrimination, label)
            // And RNNKit's own outputs are as far from the cousin's.
            let predictor = try Predictor(contentsOf: FixtureFiles.path("\(entry.fixture)/keras3.keras"))
            let outputs = try predictor.predict(try FixtureFiles.inputs(of: entry.fixture))
            XCTAssertGreaterThan(NumericDifference.between(outputs, cousinOutputs).largest, discrimination, label)
        }
    }

    /// Where the cousin is an activation RNNKit has too, RNNKit with the activation swapped in the
    /// model computes Keras's cousin outputs: the swap means the same on both sides.
    func testSwappingTheActivationInRNNKitGivesKerasCousinOutputs() throws {
        var swapped = 0
        for entry in try FixtureFiles.activationCousins() {
            let cousin = entry.cousin == "hard_sigmoid_keras2"
                ? .hardSigmoid(keras2: true) : Activation(kerasName: entry.cousin, kerasMajorVersion: 3)
            guard let cousin else { continue }
            let model = try Model.load(contentsOf: FixtureFiles.path("\(entry.fixture)/keras3.keras"))
            let outputs = try Predictor(replacing(entry.activation, with: cousin, in: model))
                .predict(try FixtureFiles.inputs(of: entry.fixture))
            assertClose(outputs, try FixtureFiles.numbered(entry.fixture, entry.prefix),
                        "\(entry.fixture): \(entry.activation) swapped for \(entry.cousin)")
            swapped += 1
        }
        XCTAssertGreaterThanOrEqual(swapped, 12)
    }

    /// `model` with every use of the activation Keras names `name` replaced by `cousin`.
    private func replacing(_ name: String, with cousin: Activation, in model: Model) throws -> Model {
        var model = model
        var replaced = 0
        func swap(_ activation: inout Activation) {
            if activation.kerasName == name { activation = cousin; replaced += 1 }
        }
        func swap(_ layer: inout RecurrentLayer) {
            swap(&layer.options.activation)
            switch layer.cell {
            case .simpleRNN: break
            case .lstm, .gru: swap(&layer.options.recurrentActivation)
            }
        }
        for index in model.layers.indices {
            guard var kind = model.layers[index].kind else { continue }
            switch kind {
            case .recurrent(var layer):
                swap(&layer)
                kind = .recurrent(layer)
            case .rnn(var layer):
                for cell in layer.cells.indices { swap(&layer.cells[cell]) }
                kind = .rnn(layer)
            case .bidirectional(var layer):
                swap(&layer.forward)
                swap(&layer.backward)
                kind = .bidirectional(layer)
            case .dense(var layer):
                swap(&layer.activation)
                kind = .dense(layer)
            case .timeDistributed(var layer):
                if case .dense(var dense) = layer.inner {
                    swap(&dense.activation)
                    layer.inner = .dense(dense)
                }
                kind = .timeDistributed(layer)
            case .activation(var layer):
                swap(&layer.activation)
                kind = .activation(layer)
            case .conv1D(var layer):
                swap(&layer.activation)
                kind = .conv1D(layer)
            case .input, .embedding, .masking, .dropout, .spatialDropout1D, .gaussianNoise, .repeatVector, .flatten,
                 .concatenate, .merge, .globalAveragePooling1D, .globalMaxPooling1D, .maxPooling1D, .averagePooling1D,
                 .batchNormalization, .layerNormalization,
                 .relu, .leakyReLU, .elu, .softmax, .reshape, .permute, .timeResampling,
                 .attention,
                 .multiHeadAttention,
                 .unitNormalization,
                 .prelu,
                 .dot:
                break
            case .conv2D(var layer):
                swap(&layer.activation)
                kind = .conv2D(layer)
            case .maxPooling2D,
                 .averagePooling2D,
                 .globalAveragePooling2D,
                 .globalMaxPooling2D,
                 .imageBorder2D:
                break
            case .depthwiseConvolution(var layer):
                swap(&layer.activation)
                kind = .depthwiseConvolution(layer)
                break
            case .operation:
                break
            case .convLSTM(var layer):
                swap(&layer.options.activation)
                swap(&layer.options.recurrentActivation)
                kind = .convLSTM(layer)
            }
            model.layers[index].kind = kind
        }
        XCTAssertGreaterThan(replaced, 0, "\(name) is used nowhere in \(model.name)")
        return model
    }
}
