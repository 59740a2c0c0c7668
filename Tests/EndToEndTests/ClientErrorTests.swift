import Foundation
import SyncClient
import SyncCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The libcurl client names each failure class, with a message a volunteer can act on.
@Suite("Client errors", .serialized)
struct ClientErrorTests {
    static func transport(_ url: String, token: String = "t", timeout: Double = 2) -> CurlTransport {
        var configuration = ClientConfiguration(serverURL: url, token: token)
        configuration.attempts = 2
        configuration.backoffSeconds = 0.01
        configuration.connectTimeoutSeconds = timeout
        configuration.totalTimeoutSeconds = timeout
        return CurlTransport(configuration: configuration, logger: quietLogger)
    }

    static func failure(_ transport: CurlTransport) -> SyncClientError? {
        do {
            _ = try transport.send(method: "GET", path: "/v1/session")
            return nil
        } catch {
            return error as? SyncClientError
        }
    }

    /// A loopback port with a listening socket that never answers (connections wait in the backlog).
    static func silentPort() -> (socket: Int32, port: Int) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        listen(listener, 8)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        return (listener, Int(UInt16(bigEndian: address.sin_port)))
    }

    @Test func eachFailureClassHasItsKindAndAMessage() throws {
        // Nothing listening: offline (retried, then reported).
        let closed = Self.silentPort()
        close(closed.socket)
        let offline = Self.failure(Self.transport("http://127.0.0.1:\(closed.port)"))
        #expect(offline?.kind == .offline)
        #expect(offline?.message.contains("your changes are kept") == true)
        #expect(offline?.isTransient == true)
        // A name that does not resolve.
        let dns = Self.failure(Self.transport("http://fieldsync-no-such-host.invalid"))
        #expect(dns?.kind == .dns)
        // A server that accepts and never answers: timeout.
        let silent = Self.silentPort()
        defer { close(silent.socket) }
        let started = Date()
        let timeout = Self.failure(Self.transport("http://127.0.0.1:\(silent.port)", timeout: 1))
        #expect(timeout?.kind == .timeout)
        #expect(Date().timeIntervalSince(started) < 10)
        // A malformed address: configuration, not retried.
        let bad = Self.failure(Self.transport("ftp://127.0.0.1/"))
        #expect(bad?.kind == .configuration)
        #expect(bad?.isTransient == false)

        // TLS against a plain HTTP server, and 401 with the problem document, from a real server.
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try ServerProcess(database: directory.appendingPathComponent("c.db").path)
        defer { server.stop() }
        let tls = Self.failure(Self.transport("https://127.0.0.1:\(server.port)"))
        #expect(tls?.kind == .tls)
        let refused = Self.failure(Self.transport(server.url, token: "fs1_not-a-token"))
        #expect(refused?.kind == .refused && refused?.status == 401)
        #expect(refused?.problem?.code == "unauthorized")
        #expect(refused?.message.contains("revoked") == true)
    }
}

/// A loopback HTTP server that answers each request from `answer` (one connection at a time, one request per
/// connection) and keeps every request's `Content-Encoding`.
final class CannedServer: @unchecked Sendable {
    // @unchecked: `seen` is only touched under `lock`; the socket belongs to the serving thread.
    private let lock = NSLock()
    private var seen: [String] = []
    private let listener: Int32
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }
    /// The `Content-Encoding` of each request so far ("" for none).
    var encodings: [String] { lock.withLock { seen } }

    init(answer: @escaping @Sendable (_ encoding: String) -> (status: String, headers: String, body: String)) {
        (listener, port) = ClientErrorTests.silentPort()
        let listener = listener
        Thread { [self] in
            while true {
                let connection = accept(listener, nil, nil)
                if connection < 0 { return }
                var request: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65_536)
                // Headers, then as many body bytes as Content-Length says.
                while true {
                    let count = read(connection, &buffer, buffer.count)
                    if count <= 0 { break }
                    request += buffer[0..<count]
                    let text = String(decoding: request, as: UTF8.self)
                    guard let end = text.range(of: "\r\n\r\n") else { continue }
                    let headers = text[..<end.lowerBound].lowercased()
                    let length =
                        headers.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                        .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
                    if request.count - text[..<end.upperBound].utf8.count < length { continue }
                    let encoding =
                        headers.split(separator: "\r\n").first { $0.hasPrefix("content-encoding:") }
                        .map { $0.dropFirst(17).trimmingCharacters(in: .whitespaces) } ?? ""
                    lock.withLock { seen.append(encoding) }
                    let (status, extra, body) = answer(encoding)
                    let response = Array(
                        ("HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)"
                            + "\r\nConnection: close\r\n\(extra)\r\n\(body)").utf8)
                    _ = response.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
                    break
                }
                close(connection)
            }
        }.start()
    }

    func stop() { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }
}

extension ClientErrorTests {
    /// A device that learnt in an earlier sync that its server takes zstd starts with zstd; a server behind
    /// the same address that no longer does (`415`) gets the same request in gzip, and gzip from then on.
    @Test func aRequestInZstdRefusedWith415IsSentAgainInGzip() throws {
        let server = CannedServer { encoding in
            encoding == "zstd"
                ? (
                    "415 Unsupported Media Type", "",
                    #"{"type":"urn:fieldsync:problem:unsupported-encoding","status":415,"title":"no zstd"}"#
                )
                : ("200 OK", "", #"{"v":1,"node":"0c41d2e9a7b35f08","clock":1764019802150}"#)
        }
        defer { server.stop() }
        var configuration = ClientConfiguration(serverURL: server.url, token: "t")
        configuration.attempts = 1
        configuration.requestCoding = .zstd
        let transport = CurlTransport(configuration: configuration, logger: quietLogger)
        #expect(transport.requestCoding == .zstd)
        let json = Array(
            #"{"v":1,"node":"5f3a9c0e12ab44d1","clock":1764019802000,"pad":"\#(String(repeating: "x", count: 2_000))"}"#
                .utf8)
        let exchange = try transport.exchange(SyncRequestBody(bytes: ContentCoding.zstd.compress(json), coding: .zstd))
        #expect(exchange.response.node == NodeID(hex: "0c41d2e9a7b35f08"))
        #expect(server.encodings == ["zstd", "gzip"])
        #expect(transport.requestCoding == .gzip)
    }
}

extension ClientErrorTests {
    /// A server of an older version behind the address: it refuses zstd-fs1 with 415 and names zstd, which
    /// the client sends the same body in; an answer larger than `maxAnswerBytes` is refused, not taken.
    @Test func aRequestInZstdFS1RefusedWith415IsSentAgainInWhatTheServerNames() throws {
        let refusal = #"{"type":"urn:fieldsync:problem:unsupported-encoding","status":415,"title":"no"}"#
        let server = CannedServer { encoding in
            switch encoding {
            case "zstd-fs1": ("415 Unsupported Media Type", "Accept-Encoding: zstd, gzip\r\n", refusal)
            case "zstd": ("200 OK", "", #"{"v":1,"node":"0c41d2e9a7b35f08","clock":1764019802150}"#)
            default:
                (
                    "200 OK", "",
                    #"{"v":1,"node":"0c41d2e9a7b35f08","clock":1,"pad":"\#(String(repeating: "x", count: 5_000))"}"#
                )
            }
        }
        defer { server.stop() }
        var configuration = ClientConfiguration(serverURL: server.url, token: "t")
        configuration.attempts = 1
        configuration.requestCoding = .zstdDictionary
        let transport = CurlTransport(configuration: configuration, logger: quietLogger)
        let json = Array(#"{"v":1,"node":"5f3a9c0e12ab44d1","clock":1764019802000}"#.utf8)
        let exchange = try transport.exchange(
            SyncRequestBody(bytes: ContentCoding.zstdDictionary.compress(json), coding: .zstdDictionary))
        #expect(exchange.response.node == NodeID(hex: "0c41d2e9a7b35f08"))
        #expect(server.encodings == ["zstd-fs1", "zstd"] && transport.requestCoding == .zstd)
        // 5 KB of answer against a limit of 1,000 bytes.
        configuration.maxAnswerBytes = 1_000
        let small = CurlTransport(configuration: configuration, logger: quietLogger)
        #expect(Self.failure(small)?.kind == .invalidResponse)
    }

    /// The server names the request codings it takes, except to a client whose request came in the best of
    /// them (it knows): the bytes of a nightly sync's answer. Every sync answer carries `Vary`.
    @Test func theServerNamesItsCodingsOnlyToAClientThatDoesNotUseTheBest() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("central.db").path
        let token = try issueToken(db: db, role: "device", city: "Tunis", name: "amina", directory: directory)
        let server = try ServerProcess(database: db)
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        var previous = "null"
        for (index, coding) in [ContentCoding.zstdDictionary, .zstd, .gzip, .zstdDictionary].enumerated() {
            let next = String(format: "%016x", 0x1000 + index)
            let json =
                #"{"v":1,"node":"5f3a9c0e12ab44d1","clock":\#(Int64(Date().timeIntervalSince1970 * 1000)),"#
                + #""lease":{"previous":\#(previous),"next":"\#(next)"}}"#
            previous = "\"\(next)\""
            let body = coding.compress(Array(json.utf8))
            connection.send(
                "POST /v1/sync HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token.token)\r\n"
                    + "Content-Encoding: \(coding.rawValue)\r\nContent-Length: \(body.count)\r\n\r\n")
            connection.send(body)
            let answer = try #require(connection.readResponse(), "\(coding)")
            #expect(answer.status == 200, "\(coding): \(String(decoding: answer.body, as: UTF8.self))")
            let headers = answer.headers.lowercased()
            #expect(
                headers.contains("accept-encoding: zstd-fs1, zstd, gzip") == (coding != .zstdDictionary), "\(coding)")
            #expect(headers.contains("vary: accept-encoding"), "\(coding)")
        }
    }
}
