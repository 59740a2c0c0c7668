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
