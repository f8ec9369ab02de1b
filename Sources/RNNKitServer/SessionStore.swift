import Foundation
import RNNKit

/// Streaming sessions: each holds a `PredictionStream`, so that the recurrent state carries from
/// one request's time steps to the next. Sessions idle for longer than `ttl` are dropped; at most
/// `capacity` live at once (a new one beyond that is refused with 429).
final class SessionStore: @unchecked Sendable {
    final class Session: @unchecked Sendable {
        let model: ServedModel
        /// Guards `stream` (a stream is for one caller at a time) and `lastUsed`.
        let lock = NSLock()
        let stream: PredictionStream
        var lastUsed: DispatchTime

        init(model: ServedModel, stream: PredictionStream) {
            self.model = model
            self.stream = stream
            lastUsed = .now()
        }
    }

    let ttlNanoseconds: UInt64
    let capacity: Int
    /// Called with each model's live-session count whenever it changes.
    let onCountChange: @Sendable (_ model: String, _ count: Int) -> Void
    /// Guards `sessions`.
    private let lock = NSLock()
    private var sessions: [String: Session] = [:]

    init(ttlSeconds: Double, capacity: Int, onCountChange: @escaping @Sendable (String, Int) -> Void) {
        ttlNanoseconds = UInt64(max(0.001, ttlSeconds) * 1e9)
        self.capacity = max(0, capacity)
        self.onCountChange = onCountChange
    }

    var count: Int { lock.withLock { sessions.count } }

    /// Starts a session on `model`; 400 when the model cannot stream, 429 when full.
    func create(on model: ServedModel) throws(ServeError) -> String {
        let stream: PredictionStream
        do {
            stream = try PredictionStream(model.predictor)
        } catch {
            throw .badRequest((error as? RNNKitError)?.message ?? "\(error)")
        }
        expireIdle()
        let id = UUID().uuidString.lowercased()
        let added: Bool = lock.withLock {
            guard sessions.count < capacity else { return false }
            sessions[id] = Session(model: model, stream: stream)
            return true
        }
        guard added else {
            throw ServeError(status: 429, "too many live sessions (\(capacity)); end one with DELETE or wait for "
                             + "idle ones to expire")
        }
        reportCount(of: model.name)
        return id
    }

    /// Feeds the next time steps to a session of `model`.
    func feed(_ inputs: [Tensor], session id: String, of model: ServedModel) throws -> [Tensor] {
        let session = try find(id, of: model)
        return try session.lock.withLock {
            session.lastUsed = .now()
            defer { session.lastUsed = .now() }
            return try session.stream.feed(inputs)
        }
    }

    func delete(_ id: String, of model: ServedModel) throws(ServeError) {
        _ = try find(id, of: model)
        lock.withLock { _ = sessions.removeValue(forKey: id) }
        reportCount(of: model.name)
    }

    private func find(_ id: String, of model: ServedModel) throws(ServeError) -> Session {
        expireIdle()
        guard let session = lock.withLock({ sessions[id] }), session.model === model else {
            throw .notFound("session '\(id)' of model '\(model.name)' not found (it may have expired)")
        }
        return session
    }

    /// Drops sessions idle for longer than the time to live (a session in use is never idle).
    func expireIdle() {
        let now = DispatchTime.now().uptimeNanoseconds
        let expired: [Session] = lock.withLock {
            let idle = sessions.filter { _, session in
                guard session.lock.try() else { return false }
                defer { session.lock.unlock() }
                return now > session.lastUsed.uptimeNanoseconds &+ ttlNanoseconds
            }
            for id in idle.keys { sessions.removeValue(forKey: id) }
            return Array(idle.values)
        }
        for name in Set(expired.map(\.model.name)) { reportCount(of: name) }
    }

    private func reportCount(of modelName: String) {
        let count = lock.withLock { sessions.values.count { $0.model.name == modelName } }
        onCountChange(modelName, count)
    }
}
