/// Layers that only act in training (Dropout, SpatialDropout1D, GaussianNoise): identity at
/// inference. Their one parameter (a rate or a standard deviation) is kept so that a written
/// config matches the read one.
struct InferenceIdentity: Equatable, Sendable {
    var parameter: Double
}
