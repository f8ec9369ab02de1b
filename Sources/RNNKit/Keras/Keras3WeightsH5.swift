/// Keras 3's weights layout (`.weights.h5` files and `model.weights.h5` inside `.keras`
/// archives): `layers/<snake_case class name>[_n]/.../vars/<i>`, located by the layer's class
/// and position, never its name.
enum Keras3WeightsH5 {
    static func holdsWeights(_ group: HDF5Group) -> Bool {
        group.hasChild("layers") || group.hasChild("vars")
    }

    /// The group name Keras gives each layer of `model.layers`: its class name in snake case,
    /// numbered `_1`, `_2`... on repeats. Sequential models leave their InputLayer out. A nested
    /// model's layers are numbered among themselves, below the nested model's own group
    /// (`sequential/layers/dense`, `functional/layers/sequential/layers/dense` two deep); its
    /// InputLayers, which hold nothing, are not flattened. A model a TimeDistributed wraps sits
    /// below the wrapper's `layer` group, its layers numbered by their own classes
    /// (`time_distributed/layer/layers/conv2d`); see `weightPath`.
    static func groupNames(_ model: Model) -> [Int: String] {
        var counts: [String: [String: Int]] = [:]  // by the nested model's group ("" for the outer model)
        func numbered(_ className: String, in container: String) -> String {
            let base = snakeCase(className)
            let seen = counts[container, default: [:]][base, default: 0]
            counts[container, default: [:]][base] = seen + 1
            let name = seen == 0 ? base : "\(base)_\(seen)"
            return container.isEmpty ? name : container + "/layers/" + name
        }
        var nestedGroups: [String: String] = [:]  // nested model's flattened name -> its group
        var names: [Int: String] = [:]
        for (index, layer) in model.layers.enumerated() where !(model.isSequential && layer.isInput) {
            var container = ""
            for origin in layer.nesting {
                if nestedGroups[origin.model] == nil {
                    let group = numbered(origin.className, in: container)
                    nestedGroups[origin.model] = origin.className == TimeDistributed.className ? group + "/layer" : group
                }
                container = nestedGroups[origin.model]!
            }
            names[index] = numbered(wrapsModelLayer(layer)?.className ?? layer.className, in: container)
        }
        return names
    }

    /// The layer of a model a TimeDistributed wraps, which RNNKit wraps in a TimeDistributed of its own.
    private static func wrapsModelLayer(_ layer: ModelLayer) -> LayerKind? {
        guard layer.nesting.last?.className == TimeDistributed.className,
              case .timeDistributed(let wrapper)? = layer.kind else { return nil }
        return wrapper.inner
    }

    /// Where a weight of layer `layer` sits below `layers/`: its group, then the spec's path. The
    /// layers of a model a TimeDistributed wraps keep their weights in their own groups (below
    /// the wrapper's `layer/`, in `groupNames`), not below a `layer/` of theirs.
    static func weightPath(_ spec: WeightSpec, group: String, layer: ModelLayer) -> String {
        let path = wrapsModelLayer(layer) != nil && spec.keras3Path.hasPrefix("layer/")
            ? String(spec.keras3Path.dropFirst("layer/".count)) : spec.keras3Path
        return "layers/" + group + "/" + path
    }

    static func bindWeights(from root: HDF5Group, to model: inout Model, specs: [Int: [WeightSpec]]) throws {
        let prefix = root.path == "/" ? "/" : root.path + "/"
        let names = groupNames(model)
        var expectedGroups = Set<String>()
        for (index, groupName) in names.sorted(by: { $0.key < $1.key }) {
            let path = "layers/" + groupName
            expectedGroups.insert(String(groupName.prefix { $0 != "/" }))
            let layerSpecs = specs[index] ?? []
            var pairs: [(WeightSpec, StoredWeight)] = []
            for spec in layerSpecs {
                let weightPath = weightPath(spec, group: groupName, layer: model.layers[index])
                guard root.hasChild(weightPath) else {
                    model.problems.append(Problem(.error, prefix + weightPath,
                        "missing weight \(model.layers[index].name).\(spec.name)"))
                    continue
                }
                do {
                    pairs.append((spec, StoredWeight(location: prefix + weightPath,
                                                     tensor: try root.readTensor(weightPath))))
                } catch let error as RNNKitError {
                    model.problems.append(Problem(error, at: prefix + weightPath))
                }
            }
            if pairs.count == layerSpecs.count, !pairs.isEmpty {
                WeightBinding.bind(pairs, to: index, model: &model)
            }
            if root.hasChild(path), specs[index] != nil {
                let stored = try datasets(below: root.group(path))
                if stored.count > layerSpecs.count {
                    model.problems.append(Problem(.error, prefix + path,
                        "\(stored.count) weights stored for layer '\(model.layers[index].name)', its config implies \(layerSpecs.count)"))
                }
            }
        }
        if root.hasChild("layers") {
            for child in try root.group("layers").childNames() where !expectedGroups.contains(child) {
                if try !datasets(below: root.group("layers/" + child)).isEmpty {
                    model.problems.append(Problem(.error, prefix + "layers/" + child,
                                                  "weights for a layer the model does not have"))
                }
            }
        }
    }

    /// Every dataset path below a group. Each group is entered once, however many hard links
    /// lead to it, so a link back to a parent cannot make the walk endless.
    static func datasets(below group: HDF5Group) throws -> [String] {
        var entered: Set<HDF5ObjectIdentity> = []
        var found: [String] = []
        func walk(_ group: HDF5Group) throws {
            guard try entered.insert(group.identity()).inserted else { return }
            for child in try group.childNames() {
                switch try group.kind(of: child) {
                case .dataset: found.append(group.path + "/" + child)
                case .group: try walk(group.group(child))
                case .other: continue
                }
            }
        }
        try walk(group)
        return found
    }
}

/// Keras's `to_snake_case`: `SimpleRNN` → `simple_rnn`, `GlobalAveragePooling1D` →
/// `global_average_pooling1d`.
func snakeCase(_ name: String) -> String {
    let characters = Array(name)
    var result = ""
    for (index, character) in characters.enumerated() {
        if index > 0, character.isUppercase {
            let previous = characters[index - 1]
            let nextIsLower = index + 1 < characters.count && characters[index + 1].isLowercase
            // A word starts at a capital that follows a lowercase letter or digit-less lowercase
            // run ("eR" in SimpleRNN), or a capital followed by lowercase ("lA" in GlobalAverage).
            if previous.isLowercase || (nextIsLower && previous != "_") {
                result.append("_")
            }
        }
        result.append(character)
    }
    return result.lowercased()
}
