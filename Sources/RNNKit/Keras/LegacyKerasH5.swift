/// Keras's legacy HDF5 files: the full model (`model.save("m.h5")`: root attribute
/// `model_config`, weights under `/model_weights`) and weights-only files (`save_weights`:
/// `layer_names` at the root). Written alike by Keras 1/2, tf.keras, tf_keras and Keras 3.
enum LegacyKerasH5 {
    /// Whether `group` holds legacy per-layer weights (it has a `layer_names` attribute, maybe chunked).
    static func holdsWeights(_ group: HDF5Group) -> Bool {
        group.hasAttribute("layer_names") || group.hasAttribute("layer_names0")
    }

    /// Reads the architecture of a full-model file.
    static func readArchitecture(_ file: HDF5File) throws -> Model {
        let root = file.root
        guard root.hasAttribute("model_config") else {
            if holdsWeights(root) || Keras3WeightsH5.holdsWeights(root) {
                throw RNNKitError(.badUsage,
                    "this is a weights-only file: give the architecture JSON as the model and this file with --weights",
                    file: file.path)
            }
            throw RNNKitError(.unreadable, "not a Keras model file (no model_config attribute)",
                              file: file.path, location: "/")
        }
        let text = try root.stringAttribute("model_config")
        let config: JSONValue
        do {
            config = try JSONParser.parse(text)
        } catch let error as RNNKitError {
            throw RNNKitError(.invalidModel, "model_config is not valid JSON: \(error.message)",
                              file: file.path, location: "/@model_config")
        }
        let version = root.hasAttribute("keras_version") ? try root.stringAttribute("keras_version") : nil
        return try KerasModelConfig.parse(config, kerasVersion: version, source: file.path)
    }

    /// Binds the weights of a legacy weights group (`/model_weights`, or the root of a
    /// `save_weights` file) by layer name, in each layer's `weight_names` order.
    static func bindWeights(from group: HDF5Group, to model: inout Model, specs: [Int: [WeightSpec]]) throws {
        let storedLayers = try group.stringListAttribute("layer_names")
        let groupPrefix = group.path == "/" ? "/" : group.path + "/"
        for (index, layer) in model.layers.enumerated() {
            guard let layerSpecs = specs[index], !layerSpecs.isEmpty else { continue }
            let location = groupPrefix + layer.name
            guard storedLayers.contains(layer.name), group.hasChild(layer.name) else {
                model.problems.append(Problem(.error, location, "no weights stored for layer '\(layer.name)'"))
                continue
            }
            do {
                let layerGroup = try group.group(layer.name)
                var stored: [StoredWeight] = []
                for name in try layerGroup.stringListAttribute("weight_names") {
                    let path = location + "/" + name
                    guard layerGroup.hasChild(name) else {
                        model.problems.append(Problem(.error, path, "weight '\(name)' is listed but missing"))
                        continue
                    }
                    stored.append(StoredWeight(location: path, tensor: try layerGroup.readTensor(name)))
                }
                if stored.count == (try layerGroup.stringListAttribute("weight_names")).count, let kind = layer.kind {
                    WeightBinding.bindInOrder(CuDNNWeights.converted(stored, for: kind), to: index, specs: layerSpecs,
                                              groupLocation: location, model: &model)
                }
            } catch let error as RNNKitError {
                model.problems.append(Problem(error, at: location))
            }
        }
        let modelLayers = Set(model.layers.map(\.name))
        for name in storedLayers where !modelLayers.contains(name) && group.hasChild(name) {
            let names = (try? group.group(name).stringListAttribute("weight_names")) ?? []
            if !names.isEmpty {
                model.problems.append(Problem(.error, groupPrefix + name,
                                              "weights for layer '\(name)', which the model does not have"))
            }
        }
    }
}
