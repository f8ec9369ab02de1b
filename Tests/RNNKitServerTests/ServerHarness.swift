import Foundation
import Logging
import RNNKit
import RNNKitServer
import RNNKitTestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A real `ModelServer` on a free loopback port (port 0, read back), for tests that speak HTTP
/// to it.
final class RunningServer: @unchecked Sendable {
    let server: ModelServer
    let port: Int
    private let task: Task<Void, any Error>

    private init(server: ModelServer, port: Int, task: Task<Void, any Error>) {
        self.server = server
        self.port = port
        self.task = task
    }

    /// Serves `models` (name → fixture-relative model path) with `configure` applied.
    static func start(_ models: [(name: String, path: String)],
                      configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> RunningServer {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configure(&configuration)
        let predictors = try models.map { name, path in
            (name: name, predictor: try Predictor(Model.load(contentsOf: FixtureFiles.path(path))))
        }
        var logger = Logger(label: "rnnkit.serve.test")
        logger.logLevel = .warning
        let server = try ModelServer(models: predictors, configuration: configuration, logger: logger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let task = Task {
            defer { continuation.finish() }
            try await server.run(gracefulShutdownSignals: []) { port in continuation.yield(port) }
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            try await task.value
            throw ServeError(status: 0, "the server stopped before listening")
        }
        return RunningServer(server: server, port: port, task: task)
    }

    /// Graceful shutdown, then waits for `run` to return.
    func stop() async throws {
        await server.shutdown()
        try await task.value
    }

    func request(_ method: String, _ path: String, body: String? = nil) async throws -> HTTPResult {
        let port = self.port
        return try await onThread { try HTTPConnection(port: port).send(method, path, body: body.map { Array($0.utf8) }) }
    }

    /// POSTs `body` and decodes the JSON answer.
    func json(_ method: String, _ path: String, body: String? = nil) async throws -> (status: Int, json: Any) {
        let result = try await request(method, path, body: body)
        return (result.status, try JSONSerialization.jsonObject(with: Data(result.body), options: [.fragmentsAllowed]))
    }
}

/// Runs blocking work on a thread of its own, so that Swift's small cooperative pool (2 threads
/// on 2 cores) stays free for the server under test.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

struct HTTPResult: Sendable {
    var status: Int
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A minimal blocking HTTP/1.1 client on one keep-alive loopback connection: test code
/// controls every byte it sends and needs no client library.
final class HTTPConnection {
    private let socket: Int32
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw ServeError(status: 0, "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var noDelay: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(socket)
            throw ServeError(status: 0, "connect() to 127.0.0.1:\(port) failed (errno \(errno))")
        }
    }

    deinit { close(socket) }

    /// Sends a request and reads its response (which must carry a Content-Length).
    func send(_ method: String, _ path: String, body: [UInt8]? = nil, headers: [String] = []) throws -> HTTPResult {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for header in headers { head += header + "\r\n" }
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        try write(Array((head + "\r\n").utf8) + (body ?? []))
        return try readResponse()
    }

    func write(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw ServeError(status: 0, "send() failed (errno \(errno))") }
            sent += count
        }
    }

    func readResponse() throws -> HTTPResult {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headerEnd: Int?
        while true {
            if buffer.count >= 4, let end = (0...(buffer.count - 4)).first(where: { Array(buffer[$0..<$0 + 4]) == separator }) {
                headerEnd = end
                break
            }
            try fill()
        }
        let head = String(decoding: buffer[..<headerEnd!], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw ServeError(status: 0, "bad status line: \(lines[0])")
        }
        let length = lines.dropFirst().compactMap { line -> Int? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
            return Int(parts[1].trimmingCharacters(in: .whitespaces))
        }.first ?? 0
        let bodyStart = headerEnd! + 4
        while buffer.count < bodyStart + length { try fill() }
        let body = Array(buffer[bodyStart..<bodyStart + length])
        buffer.removeFirst(bodyStart + length)
        return HTTPResult(status: status, body: body)
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { throw ServeError(status: 0, "connection closed or timed out (errno \(errno))") }
        buffer.append(contentsOf: chunk[..<count])
    }
}

/// Fixture arrays as JSON text and nested Swift arrays.
enum FixtureArrays {
    static func tensor(_ relative: String) throws -> Tensor {
        try TensorFile.read(FixtureFiles.path(relative))[0].tensor
    }

    /// Nested-list JSON of a tensor (integers for token ids).
    static func json(_ tensor: Tensor, integers: Bool = false, rows: Range<Int>? = nil) -> String {
        let rowSize = tensor.shape.dropFirst().reduce(1, *)
        let range = rows ?? 0..<tensor.shape[0]
        var cursor = range.lowerBound * rowSize
        func level(_ shape: ArraySlice<Int>) -> String {
            guard let count = shape.first else {
                defer { cursor += 1 }
                return integers ? String(Int(tensor.scalars[cursor])) : "\(tensor.scalars[cursor])"
            }
            return "[" + (0..<count).map { _ in level(shape.dropFirst()) }.joined(separator: ",") + "]"
        }
        return level([range.count] + tensor.shape.dropFirst())
    }

    /// The scalars of nested JSON arrays, in order.
    static func flatten(_ value: Any) -> [Float] {
        if let items = value as? [Any] { return items.flatMap(flatten) }
        if let number = value as? NSNumber { return [number.floatValue] }
        return []
    }
}

func assertClose(_ actual: [Float], _ expected: [Float], tolerance: Float, _ message: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(message): element count", file: file, line: line)
    let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
    XCTAssertLessThanOrEqual(worst, tolerance, "\(message): worst difference \(worst)", file: file, line: line)
}
