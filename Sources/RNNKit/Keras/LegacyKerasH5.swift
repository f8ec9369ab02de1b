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
    /// `save_weights` file) by layer name, in each layer's `weight_names` order. A nested
    /// model's layers share its group, which lists their weights one layer after the other
    /// (`encoder/dense/kernel` in Keras 3, `dense/kernel:0` in tf_keras).
    static func bindWeights(from group: HDF5Group, to model: inout Model, specs: [Int: [WeightSpec]]) throws {
        let storedLayers = try group.stringListAttribute("layer_names")
        let groupPrefix = group.path == "/" ? "/" : group.path + "/"
        var owners: [(group: String, layers: [Int])] = []  // in layer order
        for (index, layer) in model.layers.enumerated() where !(specs[index] ?? []).isEmpty {
            let groupName = layer.nestedIn?.model ?? layer.name
            if owners.last?.group == groupName { owners[owners.count - 1].layers.append(index) }
            else { owners.append((groupName, [index])) }
        }
        for (groupName, indices) in owners {
            let location = groupPrefix + groupName
            guard storedLayers.contains(groupName), group.hasChild(groupName) else {
                model.problems.append(Problem(.error, location, "no weights stored for layer '\(groupName)'"))
                continue
            }
            do {
                let layerGroup = try group.group(groupName)
                let names = try layerGroup.stringListAttribute("weight_names")
                var stored: [StoredWeight] = []
                for name in names {
                    let path = location + "/" + name
                    guard layerGroup.hasChild(name) else {
                        model.problems.append(Problem(.error, path, "weight '\(name)' is listed but missing"))
                        continue
                    }
                    stored.append(StoredWeight(location: path, tensor: try layerGroup.readTensor(name)))
                }
                guard stored.count == names.count else { continue }
                let expected = indices.reduce(0) { $0 + specs[$1]!.count }
                if indices.count > 1 && stored.count != expected {
                    model.problems.append(Problem(.error, location, "nested model '\(groupName)' has \(stored.count) "
                                                  + "weight(s) in the file, its layers imply \(expected)"))
                    continue
                }
                var rest = stored[...]
                for index in indices {
                    guard let kind = model.layers[index].kind else { continue }
                    let count = indices.count > 1 ? specs[index]!.count : rest.count
                    WeightBinding.bindInOrder(CuDNNWeights.converted(Array(rest.prefix(count)), for: kind), to: index,
                                              specs: specs[index]!, groupLocation: location, model: &model)
                    rest = rest.dropFirst(count)
                }
            } catch let error as RNNKitError {
                model.problems.append(Problem(error, at: location))
            }
        }
        let modelLayers = Set(model.layers.map { $0.nestedIn?.model ?? $0.name })
        for name in storedLayers where !modelLayers.contains(name) && group.hasChild(name) {
            let names = (try? group.group(name).stringListAttribute("weight_names")) ?? []
            if !names.isEmpty {
                model.problems.append(Problem(.error, groupPrefix + name,
                                              "weights for layer '\(name)', which the model does not have"))
            }
        }
    }
}
