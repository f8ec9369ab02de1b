/// Writing Keras's legacy full-model HDF5 (what `model.save("m.h5")` writes in tf_keras):
/// root attributes `keras_version`, `backend`, `model_config` (Keras 2 JSON), and `/model_weights`
/// with `layer_names` and one group per layer holding `weight_names` and the datasets, named as
/// tf_keras names them (`lstm/lstm_cell/kernel:0`, `bidirectional/forward_lstm/lstm_cell/kernel:0`).
///
/// **Versions.** The file keeps the Keras version of the source model (`kerasVersion` when it is
/// a full `x.y.z`, else 2.21.0 for Keras 1/2 models and 3.15.1 for Keras 3 ones), so that
/// hard_sigmoid keeps its formula for every reader that picks the formula by version (RNNKit,
/// and each Keras for its own files). Keras 3 always computes its own hard_sigmoid and tf_keras
/// its own, whatever the file says.
///
/// **Loaders.** Both Keras 3 and tf_keras load these files, with one exception Keras itself has:
/// a layer called with `initial_state` tensors. tf_keras reads such a call only as a Keras 2
/// node list, Keras 3 only as a Keras 3 node, so the file uses the form of its own version: a
/// Keras 2 model's file loads in tf_keras, a Keras 3 model's in Keras 3 (as Keras 3's own
/// `.h5` writer does).
extension LegacyKerasH5 {
    static let backend = "tensorflow"

    static func write(_ model: Model, to path: String) throws {
        let plan = try KerasWritePlan(model, format: "a Keras .h5 file", path: path)
        // Keras 3's legacy .h5 loader refuses operation nodes; tf_keras reads them as TFOpLambda layers.
        if model.kerasMajorVersion >= 3,
           let layer = model.layers.first(where: { if case .operation? = $0.kind { true } else { false } }) {
            throw RNNKitError(.invalidModel, "cannot write a Keras .h5 file: layer '\(layer.name)' is a tensor operation "
                              + "(\(layer.className)), which Keras 3 reads only from .keras files", file: path, location: layer.name)
        }
        let version = KerasWritePlan.versionPreserving(model)
        let writtenMajor = kerasMajor(version)
        try plan.checkHardSigmoid(writtenMajor: writtenMajor, format: "a Keras \(version) .h5",
                                  advice: "the model's Keras version cannot be kept")
        let nodeStyle: KerasWritePlan.Style = plan.passesTensorKeywords && writtenMajor >= 3 ? .keras3 : .keras2
        let config = JSONWriter.string(try plan.keras2ModelConfig(nodeStyle: nodeStyle))

        let file = try HDF5File.create(path)
        let root = file.root
        try root.setStringAttribute("keras_version", version)
        try root.setStringAttribute("backend", backend)
        try root.setStringAttribute("model_config", config)

        let weightsGroup = try root.createGroup("model_weights")
        // A Sequential model's auto-created InputLayer is not in `layer_names`; a Functional's are.
        let written = model.layers.indices.filter { !(plan.writesSequential && $0 == 0) }
        try setChunkedStringList(weightsGroup, "layer_names", written.map { model.layers[$0].name }, file: path)
        try weightsGroup.setStringAttribute("backend", backend)
        try weightsGroup.setStringAttribute("keras_version", version)
        for index in written {
            let layer = model.layers[index]
            let group = try weightsGroup.createGroup(layer.name)
            let weights = plan.weights(ofLayer: index)
            let names = weights.map { weightName(layer.name, plan.kind(index), $0.spec) }
            try setChunkedStringList(group, "weight_names", names, file: path)
            for (name, weight) in zip(names, weights) {
                try group.writeTensor(name, weight.tensor)
            }
        }
        if !model.layers.contains(where: { $0.name == "top_level_model_weights" }) {
            try setChunkedStringList(try weightsGroup.createGroup("top_level_model_weights"), "weight_names", [],
                                     file: path)
        }
        try file.flush()
    }

    /// tf_keras's dataset name of a weight, relative to the layer's group: the layer's scope,
    /// then the cell's for recurrent layers, then the variable with `:0`.
    static func weightName(_ layerName: String, _ kind: LayerKind, _ spec: WeightSpec) -> String {
        switch kind {
        case .recurrent(let recurrent):
            return "\(layerName)/\(snakeCase(recurrent.cell.className))_cell/\(spec.name):0"
        case .rnn(let rnn):
            // tf_keras: rnn/lstm_cell/kernel:0, rnn/stacked_rnn_cells/gru_cell_1/kernel:0.
            let index = rnn.cells.indices.last { spec.name.hasPrefix(rnn.weightPrefix($0)) } ?? 0
            let variable = spec.name.dropFirst(rnn.weightPrefix(index).count)
            let cell = (rnn.stacked ? "stacked_rnn_cells/" : "") + rnn.cellName(index)
            return "\(layerName)/\(cell)/\(variable):0"
        case .bidirectional(let wrapper):
            let parts = spec.name.split(separator: ".", maxSplits: 1).map(String.init)
            let direction = parts.count == 2 ? parts[0] : "forward"
            let variable = parts.last ?? spec.name
            let cell = snakeCase(wrapper.forward.cell.className) + "_cell"
            return "\(layerName)/\(direction)_\(KerasWritePlan.innerBaseName(wrapper))/\(cell)/\(variable):0"
        case .input, .dense, .embedding, .timeDistributed, .masking, .dropout, .spatialDropout1D, .gaussianNoise,
             .activation, .repeatVector, .flatten, .concatenate, .merge, .globalAveragePooling1D, .globalMaxPooling1D,
             .conv1D, .maxPooling1D, .averagePooling1D,
             .batchNormalization, .layerNormalization,
             .relu, .leakyReLU, .elu, .softmax, .reshape, .permute, .timeResampling,
             .attention,
             .multiHeadAttention,
             .unitNormalization,
             .prelu,
             .dot,
             .conv2D,
             .maxPooling2D,
             .averagePooling2D,
             .globalAveragePooling2D,
             .globalMaxPooling2D,
             .imageBorder2D,
             .depthwiseConvolution:
            return "\(layerName)/\(spec.name):0"
        case .convLSTM:
            // tf_keras creates the cell's variables in the layer's scope.
            return "\(layerName)/\(spec.name):0"
        case .operation:
            return "\(layerName)/\(spec.name):0"
        }
    }

    /// HDF5's limit on one attribute in an object header, which Keras splits lists to respect.
    static let attributeLimit = 64512

    /// Writes a string list attribute as Keras does: whole when it fits, otherwise as `name0`,
    /// `name1`, … (chunks as equal as possible, `np.array_split`), which every Keras reader joins.
    /// The size counts Keras's fixed-length bytes and the 16 bytes each variable-length string
    /// takes in the header, whichever is more.
    static func setChunkedStringList(_ group: HDF5Group, _ name: String, _ values: [String], file: String) throws {
        let longest = values.map(\.utf8.count).max() ?? 0
        guard longest <= attributeLimit else {
            throw RNNKitError(.invalidModel,
                              "a name of \(longest) bytes in '\(name)' exceeds HDF5's attribute limit of \(attributeLimit) bytes",
                              file: file, location: group.path)
        }
        let perItem = max(longest, 16)
        var chunks = 1
        while (values.count + chunks - 1) / chunks * perItem > attributeLimit { chunks += 1 }
        if chunks == 1 {
            try group.setStringListAttribute(name, values)
            return
        }
        // np.array_split: the first (count % chunks) chunks get one more item.
        let base = values.count / chunks, extra = values.count % chunks
        var start = 0
        for chunk in 0..<chunks {
            let size = base + (chunk < extra ? 1 : 0)
            try group.setStringListAttribute("\(name)\(chunk)", Array(values[start..<start + size]))
            start += size
        }
    }
}
