import XCTest
@testable import RNNKit
import RNNKitTestSupport

/// Tensor operations (Keras 3 operation nodes, tf_keras TFOpLambda layers): NumPy's indexing,
/// broadcasting and reductions where the fixtures do not reach, explicit masks, and the one-line
/// refusals of what RNNKit does not run. Keras's own numbers are checked by the ops_* fixtures.
final class TensorOperationTests: XCTestCase {
    /// The canonical (RNNKit JSON) form of an operation.
    private func operation(_ config: JSONValue) throws -> TensorOperation {
        let kind = try LayerKind(kerasClass: "Operation", config: KerasConfig(
            object: config.objectValue ?? JSONObject(), pointer: "/config", kerasMajorVersion: 3))
        guard case .operation(let operation) = kind else { throw XCTSkip("not an operation") }
        return operation
    }

    private func run(_ config: JSONValue, _ inputs: [Tensor]) throws -> Tensor {
        let operation = try operation(config)
        let shapes = try operation.outputShapes(for: inputs.map { [nil] + $0.shape.dropFirst().map(Optional.some) })
        let output = try operation.forward(inputs.map { LayerValue($0) }).tensor
        XCTAssertEqual(shapes[0].count, output.rank, "\(config): static rank")
        for (known, actual) in zip(shapes[0].dropFirst(), output.shape.dropFirst()) where known != nil {
            XCTAssertEqual(known, actual, "\(config): static shape \(shapes[0]) vs \(output.shape)")
        }
        return output
    }

    /// Every function's canonical config decodes back into the same operation.
    func testEveryFunctionRoundTripsItsConfig() throws {
        let unary = ElementwiseFunction.plain.keys.sorted().map { name -> JSONValue in
            ["operation": .string(name), "arguments": ["input"]]
        }
        let binary = (OperationFunction.Comparison.allCases.map(\.rawValue) + OperationFunction.Arithmetic.allCases.map(\.rawValue)
                      + OperationFunction.LogicalConnective.allCases.map(\.rawValue)).map { name -> JSONValue in
            ["operation": .string(name), "arguments": ["input", [[.double(0.5), .double(-1.25)]]]]
        }
        let reductions = OperationFunction.Reduction.allCases.map { reduction -> JSONValue in
            ["operation": .string(reduction.rawValue), "arguments": ["input"], "axis": [1, -1], "keepdims": true]
        }
        let others: [JSONValue] = [
            ["operation": "Elu", "arguments": ["input"], "alpha": .double(0.5)],
            ["operation": "LeakyRelu", "arguments": ["input"], "negative_slope": .double(0.1)],
            ["operation": "Gelu", "arguments": ["input"], "approximate": false],
            ["operation": "Matmul", "arguments": ["input", "input"]],
            ["operation": "Einsum", "arguments": ["input", [[1, 2]]], "subscripts": "bi,ji->bj"],
            ["operation": "Concatenate", "arguments": ["input", "input"], "axis": -1],
            ["operation": "Stack", "arguments": ["input", "input"], "axis": 1],
            ["operation": "ExpandDims", "arguments": ["input"], "axis": [1, 3]],
            ["operation": "Squeeze", "arguments": ["input"], "axis": 2],
            ["operation": "Reshape", "arguments": ["input"], "newshape": [-1, 3, 2]],
            ["operation": "Transpose", "arguments": ["input"], "axes": [0, 2, 1]],
            ["operation": "Cast", "arguments": ["input"], "dtype": "bool"],
            ["operation": "ConvertToTensor", "arguments": ["input"], "dtype": .null],
            ["operation": "ConvertToTensor", "arguments": ["input"], "dtype": "int32"],
            ["operation": "ZerosLike", "arguments": ["input"], "dtype": "bool"],
            ["operation": "OnesLike", "arguments": ["input"], "dtype": .null],
            ["operation": "Where", "arguments": ["input", "input", 0]],
            ["operation": "Clip", "arguments": ["input"], "x_min": .double(-0.5), "x_max": 2],
            ["operation": "Softmax", "arguments": ["input"], "axis": 1],
        ]
        for config in unary + binary + reductions + others {
            let decoded = try operation(config)
            XCTAssertEqual(try operation(.object(decoded.canonicalConfig())), decoded, "\(config)")
        }
    }

    /// [2, 3, 4] holding 0, 1, 2...
    private let counting = Tensor(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))

    /// Keras 3's ConvertToTensor (written on masks): the tensor itself, or cast to its dtype.
    func testConvertToTensorKeepsOrCastsItsInput() throws {
        let input = Tensor(shape: [1, 2, 2], scalars: [-1.5, 0, 0.75, 2.25])
        XCTAssertEqual(try run(["operation": "ConvertToTensor", "arguments": ["input"], "dtype": .null], [input]), input)
        XCTAssertEqual(try run(["operation": "ConvertToTensor", "arguments": ["input"], "dtype": "int32"], [input]).scalars,
                       [-1, 0, 0, 2])
        XCTAssertEqual(try run(["operation": "ConvertToTensor", "arguments": ["input"], "dtype": "bool"], [input]).scalars,
                       [1, 0, 1, 1])
    }

    func testGetItemFollowsNumPy() throws {
        func item(_ key: JSONValue) throws -> Tensor {
            try run(["operation": "GetItem", "arguments": ["input"], "key": key], [counting])
        }
        let full: JSONValue = ["start": .null, "stop": .null, "step": .null]
        // x[:, -1, :]
        XCTAssertEqual(try item([full, -1, full]), Tensor(shape: [2, 4], scalars: [8, 9, 10, 11, 20, 21, 22, 23]))
        // x[:, ::2, 1:]  (steps, open ends)
        XCTAssertEqual(try item([full, ["start": .null, "stop": .null, "step": 2], ["start": 1, "stop": .null, "step": .null]]),
                       Tensor(shape: [2, 2, 3], scalars: [1, 2, 3, 9, 10, 11, 13, 14, 15, 21, 22, 23]))
        // x[..., None, -1]
        XCTAssertEqual(try item(["...", .null, -1]), Tensor(shape: [2, 3, 1], scalars: [3, 7, 11, 15, 19, 23]))
        // x[:, ::-1, -2]  (a negative step from the end)
        XCTAssertEqual(try item([full, ["start": .null, "stop": .null, "step": -1], -2]),
                       Tensor(shape: [2, 3], scalars: [10, 6, 2, 22, 18, 14]))
        // x[:, 5:9] is empty, as in NumPy
        XCTAssertEqual(try item([full, ["start": 5, "stop": 9, "step": .null]]).shape, [2, 0, 4])
        // The batch axis must be taken whole and stay first.
        for key: JSONValue in [[0], [.null, "..."], [["start": 1, "stop": .null, "step": .null]], ["...", "..."]] {
            XCTAssertThrowsError(try item(key), "\(key)")
        }
        XCTAssertThrowsError(try item([full, 3]), "index out of range") { error in
            XCTAssertTrue("\(error)".contains("out of range"), "\(error)")
        }
    }

    func testBroadcastingReductionsAndShapes() throws {
        let row = Tensor(shape: [1, 4], scalars: [1, 2, 3, 4])
        XCTAssertEqual(try run(["operation": "Add", "arguments": ["input", [10, 20, 30, 40]]], [row]).scalars, [11, 22, 33, 44])
        XCTAssertEqual(try run(["operation": "Subtract", "arguments": [1, "input"]], [row]).scalars, [0, -1, -2, -3])
        // [2, 3, 4] against [3, 1]: broadcast over the batch and the last axis.
        let scaled = try run(["operation": "Multiply", "arguments": ["input", [[1], [0], [-1]]]], [counting])
        XCTAssertEqual(scaled.shape, [2, 3, 4])
        XCTAssertEqual(Array(scaled.scalars[0..<12]), [0, 1, 2, 3, 0, 0, 0, 0, -8, -9, -10, -11])
        XCTAssertThrowsError(try run(["operation": "Add", "arguments": ["input", [1, 2, 3]]], [counting]))

        let mean = try run(["operation": "Mean", "arguments": ["input"], "axis": 1, "keepdims": true], [counting])
        XCTAssertEqual(mean, Tensor(shape: [2, 1, 4], scalars: [4, 5, 6, 7, 16, 17, 18, 19]))
        let maximum = try run(["operation": "Max", "arguments": ["input"], "axis": [1, 2], "keepdims": false], [counting])
        XCTAssertEqual(maximum, Tensor(shape: [2], scalars: [11, 23]))
        XCTAssertThrowsError(try operation(["operation": "Sum", "arguments": ["input"], "axis": .null]),
                             "reducing the batch too")
        XCTAssertThrowsError(try run(["operation": "Sum", "arguments": ["input"], "axis": 0], [counting]))

        let stacked = try run(["operation": "Stack", "arguments": ["input", "input"], "axis": -1], [row, row])
        XCTAssertEqual(stacked, Tensor(shape: [1, 4, 2], scalars: [1, 1, 2, 2, 3, 3, 4, 4]))
        let reshaped = try run(["operation": "Reshape", "arguments": ["input"], "newshape": [-1, 2, -1]], [counting])
        XCTAssertEqual(reshaped.shape, [2, 2, 6])
        // Sizes whose product overflows are refused, never trusted.
        XCTAssertThrowsError(try run(["operation": "Reshape", "arguments": ["input"],
                                      "newshape": [-1, .int(1 << 32), .int(1 << 32), -1]], [counting]))
        let swapped = try run(["operation": "Transpose", "arguments": ["input"], "axes": [0, 2, 1]], [counting])
        XCTAssertEqual(Array(swapped.scalars[0..<4]), [0, 4, 8, 1])
        let squeezed = try run(["operation": "Squeeze", "arguments": ["input"], "axis": 1],
                               [try run(["operation": "ExpandDims", "arguments": ["input"], "axis": 1], [row])])
        XCTAssertEqual(squeezed, row)
        let cast = try run(["operation": "Cast", "arguments": ["input"], "dtype": "int32"],
                           [Tensor(shape: [1, 3], scalars: [-1.5, 0.7, 2.9])])
        XCTAssertEqual(cast.scalars, [-1, 0, 2])
        let chosen = try run(["operation": "Where", "arguments": ["input", "input", 0]],
                             [Tensor(shape: [1, 3], scalars: [1, 0, 1]), Tensor(shape: [1, 3], scalars: [5, 6, 7])])
        XCTAssertEqual(chosen.scalars, [5, 0, 7])
    }

    func testMatmulAndEinsumAgree() throws {
        let weights: JSONValue = [[1, 2], [3, 4], [5, 6], [7, 8]]
        let product = try run(["operation": "Matmul", "arguments": ["input", weights]], [counting])
        let einsum = try run(["operation": "Einsum", "arguments": ["input", weights], "subscripts": "btf,fo->bto"],
                             [counting])
        XCTAssertEqual(product.shape, [2, 3, 2])
        XCTAssertEqual(Array(product.scalars[0..<2]), [34, 40])
        XCTAssertEqual(product, einsum)
        // Batched matmul of two tensors: x · xᵀ.
        let transposed = try run(["operation": "Transpose", "arguments": ["input"], "axes": [0, 2, 1]], [counting])
        let gram = try run(["operation": "Matmul", "arguments": ["input", "input"]], [counting, transposed])
        let gramEinsum = try run(["operation": "Einsum", "arguments": ["input", "input"], "subscripts": "bik,bjk->bij"],
                                 [counting, counting])
        XCTAssertEqual(gram, gramEinsum)
        for equation in ["bi,ij", "...i,ij->...j", "bii,ij->bj", "bi,ij,jk->bk", "bi->b"] {
            XCTAssertThrowsError(try operation(["operation": "Einsum", "arguments": ["input", weights], "subscripts": .string(equation)]),
                                 equation) { error in
                XCTAssertTrue("\(error)".contains(equation), "\(error)")
            }
        }
    }

    func testRefusalsNameTheOperationOnOneLine() throws {
        func problems(_ layer: String) throws -> [Problem] {
            let text = """
            {"class_name": "Functional", "config": {"name": "f", "layers": [
              {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 4, 2], "dtype": "float32", "name": "x"}, "name": "x", "inbound_nodes": []},
              \(layer)],
             "input_layers": ["x", 0, 0], "output_layers": ["op", 0, 0]}}
            """
            return try KerasModelConfig.parse(JSONParser.parse(text), kerasVersion: "3.15.1", source: "m.keras").errors
        }
        let tensor = #"{"class_name": "__keras_tensor__", "config": {"shape": [null, 4, 2], "dtype": "float32", "keras_history": ["x", 0, 0]}}"#
        let cases: [(String, String)] = [
            (#"{"module": "keras.src.ops.numpy", "class_name": "GetItem", "config": {"name": "op"}, "name": "op", "inbound_nodes": [{"args": [\#(tensor), [\#(tensor)]], "kwargs": {}}]}"#,
             "keras.src.ops.numpy.GetItem with a tensor index is not supported"),
            (#"{"module": "keras.src.ops.numpy", "class_name": "Cumsum", "config": {"name": "op", "axis": 1}, "name": "op", "inbound_nodes": [{"args": [\#(tensor)], "kwargs": {}}]}"#,
             "unsupported operation keras.src.ops.numpy.Cumsum"),
            (#"{"module": "keras.src.ops.numpy", "class_name": "Mean", "config": {"name": "op", "axis": 1, "keepdims": false, "where": 1}, "name": "op", "inbound_nodes": [{"args": [\#(tensor)], "kwargs": {}}]}"#,
             "Mean: config key 'where' is not supported"),
            (#"{"module": "keras.src.ops.numpy", "class_name": "Add", "config": {"name": "op"}, "name": "op", "inbound_nodes": [{"args": [\#(tensor), 1], "kwargs": {"dtype": "float32"}}]}"#,
             "keyword argument 'dtype'"),
            (#"{"module": "keras.src.ops.numpy", "class_name": "Add", "config": {"name": "op"}, "name": "op", "inbound_nodes": [{"args": [\#(tensor), {"class_name": "__tensor__", "config": {"value": [[1, 2], [3]], "dtype": "float32"}}], "kwargs": {}}]}"#,
             "not a rectangular array"),
            (#"{"module": "keras.src.ops.core", "class_name": "ConvertToTensor", "config": {"name": "op", "dtype": null, "sparse": true, "ragged": null}, "name": "op", "inbound_nodes": [{"args": [\#(tensor)], "kwargs": {}}]}"#,
             "ConvertToTensor to a sparse tensor is not supported"),
            (#"{"module": "keras.src.ops.core", "class_name": "ConvertToTensor", "config": {"name": "op", "dtype": "float16"}, "name": "op", "inbound_nodes": [{"args": [\#(tensor)], "kwargs": {}}]}"#,
             "ConvertToTensor to float16 is not supported"),
            (#"{"module": "tf_keras.src.layers.core.tf_op_layer", "class_name": "TFOpLambda", "config": {"name": "op", "function": "math.cumsum"}, "name": "op", "inbound_nodes": [["x", 0, 0, {"axis": 1}]]}"#,
             "TFOpLambda tf.math.cumsum is not supported"),
            (#"{"module": "tf_keras.src.layers.core.tf_op_layer", "class_name": "TFOpLambda", "config": {"name": "op", "function": "math.reduce_mean"}, "name": "op", "inbound_nodes": [["x", 0, 0, {"axis": 1, "where": 2}]]}"#,
             "keyword argument 'where'"),
        ]
        for (layer, message) in cases {
            let found = try problems(layer)
            XCTAssertTrue(found.contains { $0.message.contains(message) }, "\(message): \(found)")
            XCTAssertTrue(found.allSatisfy { !$0.description.contains("\n") }, "\(found)")
        }
    }

    /// `mask=` given explicitly replaces the mask that rides along: GlobalAveragePooling1D
    /// averages only the steps the Greater node keeps.
    func testAnExplicitMaskActsAsKerasMask() throws {
        let tensor = #"{"class_name": "__keras_tensor__", "config": {"shape": [null, 4, 2], "dtype": "float32", "keras_history": ["x", 0, 0]}}"#
        let text = """
        {"class_name": "Functional", "config": {"name": "f", "layers": [
          {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 4, 2], "dtype": "float32", "name": "x"}, "name": "x", "inbound_nodes": []},
          {"module": "keras.src.ops.numpy", "class_name": "GetItem", "config": {"name": "first"}, "name": "first", "inbound_nodes": [{"args": [\(tensor), [{"class_name": "__ellipsis__", "config": {}}, 0]], "kwargs": {}}]},
          {"module": "keras.src.ops.numpy", "class_name": "Greater", "config": {"name": "keep"}, "name": "keep", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 4], "dtype": "float32", "keras_history": ["first", 0, 0]}}, 0], "kwargs": {}}]},
          {"module": "keras.layers", "class_name": "GlobalAveragePooling1D", "config": {"name": "pool", "data_format": "channels_last", "keepdims": false}, "name": "pool", "inbound_nodes": [{"args": [\(tensor)], "kwargs": {"mask": {"class_name": "__keras_tensor__", "config": {"shape": [null, 4], "dtype": "bool", "keras_history": ["keep", 0, 0]}}}}]}],
         "input_layers": ["x", 0, 0], "output_layers": ["pool", 0, 0]}}
        """
        let model = try KerasModelConfig.parse(JSONParser.parse(text), kerasVersion: "3.15.1", source: "m.keras")
        XCTAssertEqual(model.errors, [])
        let input = Tensor(shape: [1, 4, 2], scalars: [1, 10, -1, 20, 3, 30, -2, 40])
        let output = try Predictor(model).predict([input])[0]
        XCTAssertEqual(output.scalars, [2, 20], "the mean of steps 0 and 2 only")
        // RNNKit JSON keeps the mask, and so does the .keras writer.
        let json = try RNNKitJSON.read(RNNKitJSON.write(model, layout: .keras), source: "m.json")
        XCTAssertEqual(json.layers.map(\.nodes), model.layers.map(\.nodes))
        XCTAssertEqual(try Predictor(json).predict([input]), [output])
    }

    /// A Keras 3 tagger streams step by step (its NotEqual node works on each step alone) and
    /// gives the whole sequence's outputs; a model that indexes or averages over time is refused.
    func testStepwiseOperationsStream() throws {
        let predictor = try Predictor(contentsOf: FixtureFiles.path("ops_mask_tagger/keras3.keras"))
        let ids = try FixtureFiles.inputs(of: "ops_mask_tagger")[0]
        let (batch, steps) = (ids.shape[0], ids.shape[1])
        let whole = try predictor.predict([ids])[0]
        let stream = try PredictionStream(predictor)
        var streamed = [[Float]](repeating: [], count: batch)
        for step in 0..<steps {
            let column = Tensor(shape: [batch, 1], scalars: (0..<batch).map { ids.scalars[$0 * steps + step] })
            let output = try stream.feed([column])[0]
            let width = output.count / batch
            for row in 0..<batch { streamed[row] += output.scalars[row * width..<(row + 1) * width] }
        }
        XCTAssertEqual(Tensor(shape: whole.shape, scalars: streamed.flatMap { $0 }), whole)
        XCTAssertThrowsError(try PredictionStream(Predictor(contentsOf: FixtureFiles.path("ops_graph/keras3.keras")))) { error in
            XCTAssertTrue("\(error)".contains("may need the whole sequence"), "\(error)")
        }
    }
}
