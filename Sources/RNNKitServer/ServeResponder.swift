import Foundation
import Hummingbird
import Logging
import NIOCore
import RNNKit

/// Routes requests by hand rather than with Hummingbird's router: TF Serving's paths put the
/// verb after a colon inside a segment (`/v1/models/NAME:predict`), and every answer, errors
/// included, must be TF Serving's JSON. Each request is counted, timed and logged once here.
struct ServeResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let server: ModelServer

    /// What a request addressed, for metrics and the log line.
    struct Route {
        var model = ""
        var endpoint = "other"
        var rows = 0
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        var route = Route()
        let status: Int, body: [UInt8], contentType: String
        do {
            (body, contentType) = try await handle(request, route: &route)
            status = 200
        } catch {
            let serveError = Self.serveError(for: error)
            status = serveError.status
            var text = JSONText()
            text.append("{\"error\":")
            text.appendString(serveError.message)
            text.append("}")
            body = text.bytes
            contentType = "application/json"
        }
        let duration = ContinuousClock.now - start
        server.metrics.recordRequest(model: route.model, endpoint: route.endpoint, status: status, duration: duration)
        let (seconds, attoseconds) = duration.components
        server.logger.info("request", metadata: [
            "method": .string(request.method.rawValue), "path": .string(request.uri.path),
            "status": .stringConvertible(status), "model": .string(route.model), "endpoint": .string(route.endpoint),
            "rows": .stringConvertible(route.rows),
            "duration_us": .stringConvertible(seconds * 1_000_000 + attoseconds / 1_000_000_000_000),
        ])
        return Response(status: .init(code: status), headers: [.contentType: contentType],
                        body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// Every failure becomes a status and a message; none is a crash, a stack trace or
    /// (for anything the client sent) a 5xx.
    static func serveError(for error: any Error) -> ServeError {
        switch error {
        case let error as ServeError:
            return error
        case let error as RNNKitError:
            // The library's usage errors are about the request's tensors (a token id beyond the
            // vocabulary, a sequence a stream cannot take); anything else is the server's fault.
            return error.kind == .badUsage ? .badRequest(error.message) : ServeError(status: 500, error.description)
        case is NIOTooManyBytesError:
            return ServeError(status: 413, "the request body is larger than this server's limit")
        case let error as any HTTPResponseError:
            return ServeError(status: Int(error.status.code), "\(error.status.reasonPhrase)")
        default:
            return ServeError(status: 500, "internal error: \(type(of: error))")
        }
    }

    private func handle(_ request: Request, route: inout Route) async throws -> ([UInt8], String) {
        let path = request.uri.path
        let method = request.method
        switch path {
        case "/healthz" where method == .get:
            route.endpoint = "healthz"
            return (Array("{\"status\":\"ok\"}".utf8), "application/json")
        case "/monitoring/prometheus/metrics" where method == .get:
            route.endpoint = "metrics"
            server.sessions.expireIdle()
            return (server.metrics.exposition(), "text/plain; version=0.0.4")
        default:
            break
        }
        let prefix = "/v1/models/"
        guard path.hasPrefix(prefix) else { throw ServeError.notFound("no such resource: \(method) \(path)") }
        let malformed = ServeError.badRequest("Malformed request: \(method) \(path)")
        var segments = path.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        // The verb is a colon suffix of the last segment.
        var verb: String?
        if let last = segments.last, let colon = last.lastIndex(of: ":") {
            verb = String(last[last.index(after: colon)...])
            segments[segments.count - 1] = String(last[..<colon])
        }
        guard let name = segments.first, !name.isEmpty else { throw malformed }
        var rest = segments.dropFirst()
        var version: Int?
        if rest.first == "versions" {
            guard rest.count >= 2, let number = Int(rest[rest.startIndex + 1]), number >= 0 else { throw malformed }
            version = number
            rest = rest.dropFirst(2)
        } else if rest.first == "labels" {
            guard rest.count >= 2 else { throw malformed }
            route.endpoint = "status"
            throw ServeError.notFound("Unrecognized servable version label: \(rest[rest.startIndex + 1])")
        }
        // Metrics are labelled with served names only: a label per name a client makes up would
        // grow the registry without bound.
        guard let model = server.models[name] else {
            route.model = "unknown"
            throw ServeError.notFound(version.map { "Servable not found for request: Specific(\(name), \($0))" }
                                      ?? "Servable not found for request: Latest(\(name))")
        }
        route.model = name
        if let version, version != model.version {
            throw ServeError.notFound("Servable not found for request: Specific(\(name), \(version))")
        }
        switch (method, Array(rest), verb) {
        case (.get, [], nil):
            route.endpoint = "status"
            return (model.statusJSON, "application/json")
        case (.get, ["metadata"], nil):
            route.endpoint = "metadata"
            return (model.metadataJSON, "application/json")
        case (.post, [], "predict"):
            route.endpoint = "predict"
            let body = try await readBody(request)
            let decoded = try PredictRequest.decode(body.readableBytesView, inputs: model.inputs)
            route.rows = decoded.batchSize
            let outputs = try await model.batcher.predict(decoded.inputs)
            return (PredictResponse.encode(outputs, names: model.outputs.map(\.name), format: decoded.format),
                    "application/json")
        case (.post, [], "classify"), (.post, [], "regress"):
            route.endpoint = verb ?? ""
            throw ServeError.badRequest("Expected prediction signature method_name to be one of "
                                        + "{tensorflow/serving/predict}: RNNKit models only predict (\(verb ?? ""))")
        case (.post, ["sessions"], nil) where version == nil:
            route.endpoint = "session_create"
            let id = try server.sessions.create(on: model)
            var text = JSONText()
            text.append("{\"session_id\":")
            text.appendString(id)
            text.append("}")
            return (text.bytes, "application/json")
        case (.post, let parts, "predict") where version == nil && parts.count == 2 && parts[0] == "sessions":
            route.endpoint = "session_predict"
            let body = try await readBody(request)
            let decoded = try PredictRequest.decode(body.readableBytesView, inputs: model.inputs, anyLength: true)
            route.rows = decoded.batchSize
            let outputs = try server.sessions.feed(decoded.inputs, session: parts[1], of: model)
            return (PredictResponse.encode(outputs, names: model.outputs.map(\.name), format: decoded.format),
                    "application/json")
        case (.delete, let parts, nil) where version == nil && parts.count == 2 && parts[0] == "sessions":
            route.endpoint = "session_delete"
            try server.sessions.delete(parts[1], of: model)
            return (Array("{}".utf8), "application/json")
        default:
            throw malformed
        }
    }

    /// The whole body, refused (413) beyond the limit before it is read when its length is declared.
    private func readBody(_ request: Request) async throws -> ByteBuffer {
        let limit = server.configuration.maxBodyBytes
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw ServeError(status: 413, "the request body (\(declared) bytes) is larger than this server's "
                             + "limit of \(limit) bytes")
        }
        return try await request.body.collect(upTo: limit)
    }
}
