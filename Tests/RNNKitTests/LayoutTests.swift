import XCTest
@testable import RNNKit

final class LayoutTests: XCTestCase {
    // MARK: - Building definitions and weights

    private func config(_ entries: [(key: String, value: JSONValue)]) -> KerasConfig {
        KerasConfig(object: JSONObject(entries), pointer: "", kerasMajorVersion: 3)
    }

    private func layer(_ className: String, _ entries: [(key: String, value: JSONValue)]) throws -> LayerKind {
        try LayerKind(kerasClass: className, config: config(entries))
    }

    private func simpleRNN(_ units: Int, _ extra: [(key: String, value: JSONValue)] = []) throws -> LayerKind {
        try layer("SimpleRNN", [("units", .int(units))] + extra)
    }

    private func lstm(_ units: Int, _ extra: [(key: String, value: JSONValue)] = []) throws -> LayerKind {
        try layer("LSTM", [("units", .int(units))] + extra)
    }

    private func gru(_ units: Int, resetAfter: Bool, _ extra: [(key: String, value: JSONValue)] = []) throws -> LayerKind {
        try layer("GRU", [("units", .int(units)), ("reset_after", .bool(resetAfter))] + extra)
    }

    private func bidirectional(_ className: String, _ layerConfig: JSONValue) throws -> LayerKind {
        try layer("Bidirectional", [("layer", ["class_name": .string(className), "config": layerConfig])])
    }

    private func dense(_ units: Int, useBias: Bool = true) throws -> LayerKind {
        try layer("Dense", [("units", .int(units)), ("use_bias", .bool(useBias))])
    }

    private func embedding(_ vocabulary: Int, _ dimension: Int) throws -> LayerKind {
        try layer("Embedding", [("input_dim", .int(vocabulary)), ("output_dim", .int(dimension))])
    }

    /// Keras-layout weights for `definition` on `inputDim` features: every value distinct, so a
    /// misplaced element shows, with the awkward floats among them (-0, subnormals, NaN with a
    /// payload, infinities) to prove that values are only moved.
    private func kerasWeights(_ definition: LayerKind, inputDim: Int) throws -> [String: Tensor] {
        let specs = try definition.weightSpecs(for: [[nil, 4, inputDim]])
        let specials: [Float] = [-0.0, .leastNonzeroMagnitude, -.leastNormalMagnitude,
                                 Float(bitPattern: 0x7FC0_1234), .infinity, -.greatestFiniteMagnitude]
        var counter = 0
        var weights: [String: Tensor] = [:]
        for spec in specs {
            let count = spec.shape.reduce(1, *)
            let scalars = (0..<count).map { index -> Float in
                counter += 1
                return index < specials.count && spec.name.hasSuffix("kernel")
                    ? specials[index] : Float(counter) * 0.001 - 0.37
            }
            weights[spec.name] = Tensor(shape: spec.shape, scalars: scalars)
        }
        return weights
    }

    private func bits(_ tensor: Tensor?) -> [UInt32]? { tensor.map { $0.scalars.map(\.bitPattern) } }

    private func assertBitEqual(_ a: [String: Tensor], _ b: [String: Tensor], _ message: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Set(a.keys), Set(b.keys), message, file: file, line: line)
        for (name, tensor) in a {
            XCTAssertEqual(b[name]?.shape, tensor.shape, "\(message): \(name)", file: file, line: line)
            XCTAssertEqual(bits(b[name]), bits(tensor), "\(message): \(name)", file: file, line: line)
        }
    }

    /// The bits of element `index` (row-major) of `tensor`, so that NaN compares too.
    private func at(_ tensor: Tensor, _ index: Int...) -> UInt32 {
        var flat = 0
        for (axis, i) in index.enumerated() { flat = flat * tensor.shape[axis] + i }
        return tensor.scalars[flat].bitPattern
    }

    private func message(of error: Error) -> String { (error as? RNNKitError)?.message ?? "\(error)" }

    // MARK: - Round trips

    func testEveryLayoutRoundTripsBitExact() throws {
        let cases: [(String, LayerKind, Set<WeightLayout>)] = [
            ("SimpleRNN", try simpleRNN(3), []),
            ("SimpleRNN relu", try simpleRNN(3, [("activation", "relu")]), []),
            ("SimpleRNN no bias", try simpleRNN(2, [("use_bias", false)]), []),
            ("LSTM", try lstm(3), []),
            ("LSTM no bias", try lstm(2, [("use_bias", false)]), []),
            ("GRU reset_after", try gru(3, resetAfter: true), []),
            ("GRU reset_after no bias", try gru(2, resetAfter: true, [("use_bias", false)]), []),
            ("GRU reset before", try gru(3, resetAfter: false), [.pytorch]),
            ("Bidirectional LSTM", try bidirectional("LSTM", ["units": 2]), []),
            ("Bidirectional GRU", try bidirectional("GRU", ["units": 2, "reset_after": true]), []),
            ("Bidirectional SimpleRNN", try bidirectional("SimpleRNN", ["units": 3, "use_bias": false]), []),
            ("Dense", try dense(4), []),
            ("Dense no bias", try dense(2, useBias: false), []),
            ("Embedding", try embedding(7, 3), []),
            ("TimeDistributed", try layer("TimeDistributed", [("layer", ["class_name": "Dense", "config": ["units": 2]])]), []),
        ]
        for (label, definition, refused) in cases {
            let weights = try kerasWeights(definition, inputDim: 5)
            for layout in WeightLayout.allCases {
                if refused.contains(layout) {
                    XCTAssertThrowsError(try LayoutConversion.export(weights, of: definition, to: layout), "\(label) \(layout)")
                    continue
                }
                let exported = try LayoutConversion.export(weights, of: definition, to: layout)
                XCTAssertEqual(Set(exported.keys), Set(try LayoutConversion.tensorNames(of: definition, in: layout)),
                               "\(label) \(layout)")
                let imported = try LayoutConversion.importWeights(exported, of: definition, from: layout)
                assertBitEqual(weights, imported, "\(label) via \(layout)")
                // Exported tensors hold exactly the same values, only moved (plus zero biases).
                let moved = exported.values.flatMap(\.scalars).map(\.bitPattern).filter { $0 != 0 }.sorted()
                let original = weights.values.flatMap(\.scalars).map(\.bitPattern).filter { $0 != 0 }.sorted()
                XCTAssertEqual(moved, original, "\(label) \(layout)")
            }
        }
    }

    func testTensorNamesFollowTheContract() throws {
        XCTAssertEqual(try LayoutConversion.tensorNames(of: try lstm(2), in: .split),
                       ["W_i", "W_f", "W_c", "W_o", "U_i", "U_f", "U_c", "U_o", "b_i", "b_f", "b_c", "b_o"])
        XCTAssertEqual(try LayoutConversion.tensorNames(of: try gru(2, resetAfter: true), in: .split),
                       ["W_z", "W_r", "W_h", "U_z", "U_r", "U_h", "b_z", "b_r", "b_h", "rb_z", "rb_r", "rb_h"])
        XCTAssertEqual(try LayoutConversion.tensorNames(of: try simpleRNN(2), in: .split), ["W", "U", "b"])
        XCTAssertEqual(try LayoutConversion.tensorNames(of: try bidirectional("LSTM", ["units": 2]), in: .pytorch),
                       ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                        "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse"])
        XCTAssertEqual(try LayoutConversion.tensorNames(of: try bidirectional("GRU", ["units": 2]), in: .split).prefix(2),
                       ["forward.W_z", "forward.W_r"])
        XCTAssertEqual(try LayoutConversion.tensorNames(of: try bidirectional("LSTM", ["units": 2]), in: .onnx),
                       ["W", "R", "B"])
        XCTAssertEqual(try LayoutConversion.tensorNames(of: try lstm(2, [("use_bias", false)]), in: .onnx), ["W", "R"])
        XCTAssertEqual(try LayoutConversion.tensorNames(of: try bidirectional("LSTM", ["units": 2]), in: .keras),
                       ["forward.kernel", "forward.recurrent_kernel", "forward.bias",
                        "backward.kernel", "backward.recurrent_kernel", "backward.bias"])
        for layout in WeightLayout.allCases {
            XCTAssertEqual(try LayoutConversion.tensorNames(of: try dense(2), in: layout),
                           layout == .pytorch ? ["weight", "bias"] : ["kernel", "bias"])
            XCTAssertEqual(try LayoutConversion.tensorNames(of: try embedding(5, 2), in: layout),
                           layout == .pytorch ? ["weight"] : ["embeddings"])
        }
    }

    func testLayersWithoutWeightsConvertToNothing() throws {
        let dropout = try layer("Dropout", [("rate", .double(0.5))])
        for layout in WeightLayout.allCases {
            XCTAssertEqual(try LayoutConversion.export([:], of: dropout, to: layout), [:])
            XCTAssertEqual(try LayoutConversion.importWeights([:], of: dropout, from: layout), [:])
        }
        XCTAssertThrowsError(try LayoutConversion.importWeights(["kernel": Tensor(zeros: [1])], of: dropout, from: .keras)) {
            XCTAssertEqual(self.message(of: $0), "unexpected tensor 'kernel' of shape (1,): Dropout has no weights")
        }
    }

    // MARK: - Index formulas of docs/layouts.md ("Gate blocks")

    func testONNXLSTMPermutesGatesIOFC() throws {
        let units = 3, inputs = 5
        let definition = try lstm(units)
        let keras = try kerasWeights(definition, inputDim: inputs)
        let onnx = try LayoutConversion.export(keras, of: definition, to: .onnx)
        let (k, r, b) = (keras["kernel"]!, keras["recurrent_kernel"]!, keras["bias"]!)
        XCTAssertEqual(onnx["W"]!.shape, [1, 4 * units, inputs])
        XCTAssertEqual(onnx["R"]!.shape, [1, 4 * units, units])
        XCTAssertEqual(onnx["B"]!.shape, [1, 8 * units])
        let pi = [0, 3, 1, 2]
        for q in 0..<4 {
            for j in 0..<units {
                for column in 0..<inputs {
                    XCTAssertEqual(at(onnx["W"]!, 0, q * units + j, column),
                                   at(k, column, pi[q] * units + j))
                }
                for m in 0..<units {
                    XCTAssertEqual(at(onnx["R"]!, 0, q * units + j, m), at(r, m, pi[q] * units + j))
                }
                XCTAssertEqual(at(onnx["B"]!, 0, q * units + j), at(b, pi[q] * units + j))
                XCTAssertEqual(at(onnx["B"]!, 0, 4 * units + q * units + j), 0)
            }
        }
    }

    func testPyTorchGRUPermutesGatesRZN() throws {
        let units = 2, inputs = 3
        let definition = try gru(units, resetAfter: true)
        let keras = try kerasWeights(definition, inputDim: inputs)
        let torch = try LayoutConversion.export(keras, of: definition, to: .pytorch)
        let (k, r, b) = (keras["kernel"]!, keras["recurrent_kernel"]!, keras["bias"]!)
        XCTAssertEqual(torch["weight_ih_l0"]!.shape, [3 * units, inputs])
        let pi = [1, 0, 2]
        for q in 0..<3 {
            for j in 0..<units {
                for column in 0..<inputs {
                    XCTAssertEqual(at(torch["weight_ih_l0"]!, q * units + j, column),
                                   at(k, column, pi[q] * units + j))
                }
                for m in 0..<units {
                    XCTAssertEqual(at(torch["weight_hh_l0"]!, q * units + j, m), at(r, m, pi[q] * units + j))
                }
                XCTAssertEqual(at(torch["bias_ih_l0"]!, q * units + j), at(b, 0, pi[q] * units + j))
                XCTAssertEqual(at(torch["bias_hh_l0"]!, q * units + j), at(b, 1, pi[q] * units + j))
            }
        }
    }

    func testPyTorchLSTMKeepsGateOrderWithZeroRecurrentBias() throws {
        let definition = try lstm(2)
        let keras = try kerasWeights(definition, inputDim: 3)
        let torch = try LayoutConversion.export(keras, of: definition, to: .pytorch)
        XCTAssertEqual(torch["bias_ih_l0"], keras["bias"])
        XCTAssertEqual(torch["bias_hh_l0"], Tensor(zeros: [8]))
        for row in 0..<8 {
            for column in 0..<3 {
                XCTAssertEqual(at(torch["weight_ih_l0"]!, row, column),
                               at(keras["kernel"]!, column, row))
            }
        }
    }

    func testSplitGatesAreTransposedKernelColumns() throws {
        let units = 2, inputs = 3
        let definition = try gru(units, resetAfter: true)
        let keras = try kerasWeights(definition, inputDim: inputs)
        let split = try LayoutConversion.export(keras, of: definition, to: .split)
        for (block, gate) in ["z", "r", "h"].enumerated() {
            XCTAssertEqual(split["W_\(gate)"]!.shape, [units, inputs])
            XCTAssertEqual(split["U_\(gate)"]!.shape, [units, units])
            for j in 0..<units {
                for column in 0..<inputs {
                    XCTAssertEqual(at(split["W_\(gate)"]!, j, column),
                                   at(keras["kernel"]!, column, block * units + j))
                }
                XCTAssertEqual(at(split["b_\(gate)"]!, j), at(keras["bias"]!, 0, block * units + j))
                XCTAssertEqual(at(split["rb_\(gate)"]!, j), at(keras["bias"]!, 1, block * units + j))
            }
        }
        // LSTM: W_c is the transpose of columns [2H, 3H).
        let cell = try lstm(units)
        let lstmKeras = try kerasWeights(cell, inputDim: inputs)
        let lstmSplit = try LayoutConversion.export(lstmKeras, of: cell, to: .split)
        for j in 0..<units {
            for column in 0..<inputs {
                XCTAssertEqual(at(lstmSplit["W_c"]!, j, column),
                               at(lstmKeras["kernel"]!, column, 2 * units + j))
            }
            XCTAssertEqual(at(lstmSplit["U_o"]!, j, 1), at(lstmKeras["recurrent_kernel"]!, 1, 3 * units + j))
        }
    }

    func testBidirectionalDirections() throws {
        let definition = try bidirectional("LSTM", ["units": 2])
        let keras = try kerasWeights(definition, inputDim: 3)
        let torch = try LayoutConversion.export(keras, of: definition, to: .pytorch)
        XCTAssertEqual(bits(torch["weight_ih_l0_reverse"]),
                       bits(BlockMatrix.transposed(keras["backward.kernel"]!, blocks: [0, 1, 2, 3], units: 2)))
        XCTAssertEqual(torch["bias_ih_l0_reverse"], keras["backward.bias"])
        let onnx = try LayoutConversion.export(keras, of: definition, to: .onnx)
        XCTAssertEqual(onnx["W"]!.shape, [2, 8, 3])
        XCTAssertEqual(onnx["B"]!.shape, [2, 16])
        XCTAssertEqual(bits(BlockMatrix.slice(onnx["R"]!, 1)),
                       bits(BlockMatrix.transposed(keras["backward.recurrent_kernel"]!, blocks: [0, 3, 1, 2], units: 2)))
        XCTAssertEqual(bits(BlockMatrix.slice(onnx["R"]!, 0)),
                       bits(BlockMatrix.transposed(keras["forward.recurrent_kernel"]!, blocks: [0, 3, 1, 2], units: 2)))
    }

    func testNonRecurrentLayers() throws {
        let layer = try dense(3)
        let keras = try kerasWeights(layer, inputDim: 4)
        let torch = try LayoutConversion.export(keras, of: layer, to: .pytorch)
        XCTAssertEqual(torch["weight"]!.shape, [3, 4])
        XCTAssertEqual(at(torch["weight"]!, 2, 1), at(keras["kernel"]!, 1, 2))
        XCTAssertEqual(torch["bias"], keras["bias"])
        for layout in [WeightLayout.keras, .split, .onnx] {
            assertBitEqual(try LayoutConversion.export(keras, of: layer, to: layout), keras, "\(layout)")
        }
        let table = try embedding(6, 2)
        let vectors = try kerasWeights(table, inputDim: 1)
        XCTAssertEqual(try LayoutConversion.export(vectors, of: table, to: .pytorch), ["weight": vectors["embeddings"]!])
    }

    // MARK: - Imports that combine biases

    func testPyTorchImportAddsBothBiases() throws {
        let definition = try simpleRNN(2)
        let tensors = [
            "weight_ih_l0": Tensor(shape: [2, 1], scalars: [1, 2]),
            "weight_hh_l0": Tensor(shape: [2, 2], scalars: [3, 4, 5, 6]),
            "bias_ih_l0": Tensor(shape: [2], scalars: [0.5, -0.0]),
            "bias_hh_l0": Tensor(shape: [2], scalars: [0.25, 7]),
        ]
        let keras = try LayoutConversion.importWeights(tensors, of: definition, from: .pytorch)
        XCTAssertEqual(keras["bias"], Tensor(shape: [2], scalars: [0.75, 7]))
        XCTAssertEqual(keras["kernel"], Tensor(shape: [1, 2], scalars: [1, 2]))
        XCTAssertEqual(keras["recurrent_kernel"], Tensor(shape: [2, 2], scalars: [3, 5, 4, 6]))
    }

    func testONNXImportOfGRUResetBeforeAddsRecurrentBias() throws {
        let definition = try gru(1, resetAfter: false)
        let tensors = [
            "W": Tensor(shape: [1, 3, 1], scalars: [1, 2, 3]),
            "R": Tensor(shape: [1, 3, 1], scalars: [4, 5, 6]),
            "B": Tensor(shape: [1, 6], scalars: [1, 2, 3, 10, 20, 30]),
        ]
        let keras = try LayoutConversion.importWeights(tensors, of: definition, from: .onnx)
        XCTAssertEqual(keras["bias"], Tensor(shape: [3], scalars: [11, 22, 33]))
        XCTAssertEqual(keras["kernel"], Tensor(shape: [1, 3], scalars: [1, 2, 3]))
    }

    // MARK: - Refusals and errors

    func testPyTorchRefusals() throws {
        let refused: [(LayerKind, String)] = [
            (try gru(2, resetAfter: false), "cannot express GRU reset_after=false"),
            (try lstm(2, [("activation", "relu")]), "cannot express LSTM activation 'relu': torch.nn.LSTM uses tanh"),
            (try gru(2, resetAfter: true, [("recurrent_activation", "hard_sigmoid")]),
             "cannot express GRU recurrent_activation 'hard_sigmoid': torch.nn.GRU uses sigmoid"),
            (try simpleRNN(2, [("activation", "sigmoid")]),
             "cannot express SimpleRNN activation 'sigmoid': torch.nn.RNN offers tanh or relu"),
            (try bidirectional("GRU", ["units": 2, "reset_after": false]), "reset_after=false"),
        ]
        for (definition, reason) in refused {
            let weights = try kerasWeights(definition, inputDim: 3)
            XCTAssertThrowsError(try LayoutConversion.export(weights, of: definition, to: .pytorch)) { error in
                XCTAssertEqual((error as? RNNKitError)?.kind, .invalidModel)
                XCTAssertTrue(self.message(of: error).contains(reason), self.message(of: error))
            }
            XCTAssertThrowsError(try LayoutConversion.importWeights([:], of: definition, from: .pytorch)) { error in
                XCTAssertTrue(self.message(of: error).contains(reason), self.message(of: error))
            }
            XCTAssertThrowsError(try LayoutConversion.tensorNames(of: definition, in: .pytorch))
            // Every other layout holds them.
            for layout in [WeightLayout.keras, .split, .onnx] {
                XCTAssertNoThrow(try LayoutConversion.export(weights, of: definition, to: layout))
            }
        }
    }

    func testImportErrorsNameTheTensorAndBothShapes() throws {
        let definition = try lstm(3)
        let split = try LayoutConversion.export(try kerasWeights(definition, inputDim: 5), of: definition, to: .split)

        var misshaped = split
        misshaped["W_f"] = Tensor(zeros: [3, 4])
        XCTAssertThrowsError(try LayoutConversion.importWeights(misshaped, of: definition, from: .split)) { error in
            XCTAssertEqual(error as? RNNKitError,
                           RNNKitError(.invalidModel, "tensor 'W_f' has shape (3, 4), expected (3, 5)", location: "W_f"))
        }

        var missing = split
        missing["b_o"] = nil
        XCTAssertThrowsError(try LayoutConversion.importWeights(missing, of: definition, from: .split)) { error in
            XCTAssertEqual(error as? RNNKitError,
                           RNNKitError(.invalidModel, "missing tensor 'b_o' of shape (3,) (split layout)", location: "b_o"))
        }

        var extra = split
        extra["b_x"] = Tensor(zeros: [3])
        XCTAssertThrowsError(try LayoutConversion.importWeights(extra, of: definition, from: .split)) { error in
            XCTAssertEqual((error as? RNNKitError)?.location, "b_x")
            XCTAssertTrue(self.message(of: error).hasPrefix("unexpected tensor 'b_x' of shape (3,): LSTM in the split layout has W_i, "),
                          self.message(of: error))
        }

        // Keras names in a pytorch file, and a kernel of the wrong rank for export.
        XCTAssertThrowsError(try LayoutConversion.importWeights(
            try kerasWeights(definition, inputDim: 5), of: definition, from: .pytorch)) { error in
            XCTAssertEqual(self.message(of: error), "missing tensor 'weight_ih_l0' of shape (12, I) (pytorch layout)")
        }
        var keras = try kerasWeights(definition, inputDim: 5)
        keras["recurrent_kernel"] = Tensor(zeros: [12, 3])
        XCTAssertThrowsError(try LayoutConversion.export(keras, of: definition, to: .onnx)) { error in
            XCTAssertEqual(self.message(of: error), "tensor 'recurrent_kernel' has shape (12, 3), expected (3, 12)")
        }

        // With the input size known, the first tensor is checked against it too.
        XCTAssertThrowsError(try LayoutConversion.importWeights(split, of: definition, from: .split, inputDim: 6)) { error in
            XCTAssertEqual(self.message(of: error), "tensor 'W_i' has shape (3, 5), expected (3, 6)")
        }
    }
}
