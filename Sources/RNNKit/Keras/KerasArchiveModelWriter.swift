import Foundation

/// Writing a Keras 3 `.keras` archive: `metadata.json`, `config.json` (Keras 3 serialization) and
/// `model.weights.h5` in Keras 3's layout (`layers/<snake_case class>[_n]/.../vars/<i>`), as
/// stored ZIP entries.
///
/// Keras 3 computes hard_sigmoid as clip(x/6 + 0.5, 0, 1) and RNNKit reads every `.keras` file
/// that way, so a model read from a Keras 2 file that uses hard_sigmoid (clip(0.2x + 0.5, 0, 1))
/// is refused rather than saved with other numbers.
extension KerasArchiveModel {
    static func write(_ model: Model, to path: String, date: Date = Date()) throws {
        let format = "a .keras archive"
        let plan = try KerasWritePlan(model, format: format, path: path)
        let version = model.kerasMajorVersion >= 3 ? KerasWritePlan.versionPreserving(model)
                                                    : KerasWritePlan.defaultKeras3Version
        try plan.checkHardSigmoid(writtenMajor: kerasMajor(version), format: format,
                                  advice: "save it as a legacy .h5 file, which keeps its Keras 2 version")
        try plan.checkMasksGivenInitialStates(format: format)
        let metadata: JSONValue = ["keras_version": .string(version), "date_saved": .string(dateText(date))]
        let config = try plan.keras3ModelConfig()

        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("rnnkit-keras-write-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw RNNKitError(.badUsage, "cannot create a temporary folder: \(error.localizedDescription)", file: path)
        }
        defer { try? FileManager.default.removeItem(at: folder) }
        let weightsPath = folder.appendingPathComponent(KerasArchive.weightsEntry).path
        do {
            try writeWeights(plan, to: weightsPath)
        } catch let error as RNNKitError {
            throw RNNKitError(error.kind, error.message, file: path,
                              location: KerasArchive.weightsEntry + (error.location ?? ""))
        }
        let weights = try ReadableFile(path: weightsPath)
        try FileSink.write(to: path) { sink in
            var zip = ZipWriter(sink: sink, date: date)
            try zip.addStored(KerasArchive.metadataEntry, Data(JSONWriter.string(metadata).utf8))
            try zip.addStored(KerasArchive.configEntry, Data(JSONWriter.string(config).utf8))
            try zip.addStored(KerasArchive.weightsEntry, from: weights)
            try zip.finish()
        }
    }

    /// Keras's `date_saved`: "2026-11-23@08:54:25" (local time).
    static func dateText(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd@HH:mm:ss"
        return formatter.string(from: date)
    }

    /// `model.weights.h5`: each saveable's `vars` group carries a `name` attribute, as Keras
    /// writes it; the root's is the model's.
    static func writeWeights(_ plan: KerasWritePlan, to path: String) throws {
        let model = plan.model
        let file = try HDF5File.create(path)
        let root = file.root
        try root.createGroup("vars").setStringAttribute("name", model.name)
        _ = try root.createGroup("layers")
        // Keras numbers the groups over the model's `layers`: a Sequential's leave its InputLayer out.
        var container = model
        container.isSequential = plan.writesSequential
        for index in container.layers.indices { container.layers[index].nesting = [] }  // written flat
        for (index, groupName) in Keras3WeightsH5.groupNames(container).sorted(by: { $0.key < $1.key }) {
            let layer = model.layers[index]
            let kind = plan.kind(index)
            let base = "layers/" + groupName
            var named = Set<String>()
            func nameGroup(_ relative: String) throws {
                guard named.insert(relative).inserted else { return }
                let group = root.hasChild(base + "/" + relative)
                    ? try root.group(base + "/" + relative) : try root.createGroup(base + "/" + relative)
                try group.setStringAttribute("name", savedName(of: relative, layer: layer, kind: kind))
            }
            try nameGroup("vars")
            if case .bidirectional = kind {
                try nameGroup("forward_layer/vars")
                try nameGroup("backward_layer/vars")
            }
            for (spec, tensor) in plan.weights(ofLayer: index) {
                let parent = spec.keras3Path.split(separator: "/").dropLast().joined(separator: "/")
                try nameGroup(parent)
                try root.writeTensor(base + "/" + spec.keras3Path, tensor)
            }
        }
        try file.flush()
    }

    /// The `name` Keras stores on a `vars` group below a layer's group: the layer's, its cell's
    /// ("lstm_cell"), a Bidirectional copy's ("forward_lstm") or a wrapped layer's ("dense").
    static func savedName(of varsPath: String, layer: ModelLayer, kind: LayerKind) -> String {
        let owners = varsPath.split(separator: "/").dropLast().map(String.init)  // drop "vars"
        guard let owner = owners.last else { return layer.name }
        // The class whose snake-case name Keras gives a wrapped layer or cell.
        let wrappedClass: String
        switch kind {
        case .bidirectional(let wrapper): wrappedClass = wrapper.forward.cell.className
        case .rnn(let rnn): wrappedClass = rnn.cells[0].cell.className
        case .timeDistributed(let wrapper): wrappedClass = wrapper.inner.className
        case .input, .recurrent, .dense, .embedding, .masking, .dropout, .spatialDropout1D, .gaussianNoise,
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
             .depthwiseConvolution,
             .operation:
            wrappedClass = kind.className
        case .convLSTM:
            // Keras 3's ConvLSTMCell, for ConvLSTM1D/2D/3D alike.
            wrappedClass = "ConvLSTM"
        }
        switch owner {
        case "cell": return snakeCase(wrappedClass) + "_cell"
        case "forward_layer", "backward_layer":
            let direction = owner == "forward_layer" ? "forward_" : "backward_"
            return direction + snakeCase(wrappedClass)
        case "layer": return snakeCase(wrappedClass)
        default: return owner
        }
    }
}
