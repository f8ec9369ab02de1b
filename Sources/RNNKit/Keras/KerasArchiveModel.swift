/// A Keras 3 `.keras` archive as a model: `config.json` for the architecture, the Keras
/// version from `metadata.json`, and weights from `model.weights.h5` in Keras 3's layout.
enum KerasArchiveModel {
    static func read(_ archive: KerasArchive) throws -> Model {
        let config: JSONValue
        do {
            config = try JSONParser.parse(archive.configJSON)
        } catch let error as RNNKitError {
            throw RNNKitError(.invalidModel, "config.json is not valid JSON: \(error.message)",
                              location: "config.json")
        }
        var version: String?
        if let metadata = archive.metadataJSON {
            version = (try? JSONParser.parse(metadata))?["keras_version"]?.stringValue
        }
        var model = try KerasModelConfig.parse(config, kerasVersion: version ?? "3", source: archive.path)
        let specs = Model.analyze(&model)
        do {
            let file = try archive.weightsFile()
            try Keras3WeightsH5.bindWeights(from: file.root, to: &model, specs: specs)
        } catch let error as RNNKitError {
            // The weights live inside the archive: name the entry.
            throw RNNKitError(error.kind, error.message, file: archive.path,
                              location: "model.weights.h5" + (error.location ?? ""))
        }
        return model
    }
}
