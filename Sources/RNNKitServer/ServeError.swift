/// An error answered as TF Serving answers it: an HTTP status and `{"error": message}`.
public struct ServeError: Error, Equatable, Sendable, CustomStringConvertible {
    public var status: Int
    public var message: String

    public init(status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    /// TF Serving's INVALID_ARGUMENT: a body or a tensor that does not fit the model.
    public static func badRequest(_ message: String) -> ServeError { ServeError(status: 400, message) }
    /// TF Serving's NOT_FOUND: an unknown model, version or session.
    public static func notFound(_ message: String) -> ServeError { ServeError(status: 404, message) }

    public var description: String { "\(status): \(message)" }
}
