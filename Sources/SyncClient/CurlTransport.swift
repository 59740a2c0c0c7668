internal import CCurl
import Foundation
public import Logging
public import SyncCore

/// A response as libcurl delivered it (body already decompressed).
public struct HTTPResult: Sendable {
    public var status: Int
    public var body: [UInt8]
    public var contentType: String?
    public var retryAfterSeconds: Double?
    public var bytesSent: Int
    public var bytesReceived: Int
}

/// The sync protocol over HTTP with libcurl: gzip both ways, timeouts, a low-speed limit, retries with
/// backoff and jitter on transient failures, proxies from the environment, TLS verification always on.
///
/// Blocking: call it from a thread that may wait (the CLI, a hub's upstream task), not an event loop.
public final class CurlTransport: SyncTransport, @unchecked Sendable {
    // @unchecked: idle handles are kept under `lock`; a checked-out handle belongs to one request.
    public let configuration: ClientConfiguration
    private let logger: Logger
    private let lock = NSLock()
    /// Easy handles not in use, each with its open connection: concurrent requests take one each.
    private var idle: [EasyHandle] = []
    /// The best request coding the server's last `Accept-Encoding` named (the configuration's until then).
    private var learntCoding: ContentCoding

    /// The coding request bodies are sent in: the best the server said it takes.
    public var requestCoding: ContentCoding { lock.withLock { learntCoding } }

    /// Each request takes an easy handle (and its connection) of its own.
    public var allowsConcurrentExchanges: Bool { true }

    public init(configuration: ClientConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        learntCoding = configuration.requestCoding
    }

    public func exchange(_ body: SyncRequestBody) throws -> SyncExchange {
        let result: HTTPResult
        do {
            result = try send(method: "POST", path: "/v1/sync", body: body.bytes, coding: body.coding)
        } catch let error as SyncClientError
            where error.problem?.code.rawValue == "unsupported-encoding" && body.coding != .identity
        {
            // A server that does not take the coding (another server behind the same address): the same body
            // in the best coding its answer named (`perform` learnt it), or gzip, which every server takes.
            let coding = lock.withLock { () -> ContentCoding in
                if learntCoding == body.coding || learntCoding == .identity { learntCoding = .gzip }
                return learntCoding
            }
            let json = try body.coding.decompress(body.bytes, limit: 1 << 30)
            result = try send(method: "POST", path: "/v1/sync", body: coding.compress(json), coding: coding)
        }
        do {
            let response = try SyncResponse(decoding: result.body)
            return SyncExchange(response: response, bytesSent: result.bytesSent, bytesReceived: result.bytesReceived)
        } catch {
            throw SyncClientError(
                .invalidResponse,
                "The server at \(configuration.serverURL) answered with something that is not a FieldSync sync "
                    + "response (\(error.message)). Check the server address.", status: result.status)
        }
    }

    /// Sends a request with retries; returns a 2xx answer or throws a `SyncClientError` (4xx → `.refused`
    /// with the problem document, other failures by class). A problem of the sync protocol (a refused push)
    /// is thrown as the ``Problem`` itself so that the sync session can act on it.
    public func send(
        method: String, path: String, body: [UInt8]? = nil, coding: ContentCoding = .identity
    ) throws -> HTTPResult {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let result = try perform(method: method, path: path, body: body, coding: coding)
                if (200..<300).contains(result.status) { return result }
                var error = httpError(result)
                if var clientError = error as? SyncClientError {
                    clientError.retryAfterSeconds = result.retryAfterSeconds
                    error = clientError
                }
                throw error
            } catch let error as SyncClientError where error.isTransient && attempt < configuration.attempts {
                let delay = backoff(attempt: attempt, retryAfter: error.retryAfterSeconds)
                logger.info(
                    "sync request failed, retrying",
                    metadata: [
                        "sync.error": "\(error.kind.rawValue)", "sync.attempt": "\(attempt)",
                        "sync.retry_in_ms": "\(Int(delay * 1000))",
                    ])
                Thread.sleep(forTimeInterval: delay)
            }
        }
    }

    /// Exponential backoff with full jitter, at least what the server asked for.
    private func backoff(attempt: Int, retryAfter: Double?) -> Double {
        let ceiling = min(configuration.maxBackoffSeconds, configuration.backoffSeconds * pow(2, Double(attempt - 1)))
        let jittered = Double.random(in: (ceiling / 2)...max(ceiling / 2, ceiling))
        return max(jittered, min(retryAfter ?? 0, configuration.maxBackoffSeconds))
    }

    private func httpError(_ result: HTTPResult) -> any Error {
        let problem = Problem(decoding: result.body)
        // The problems the session handles itself: it repairs its clock, takes a new node id, or sends again.
        if let problem, (400..<500).contains(result.status),
            [SyncError.Code.clockDrift, .duplicateNode, .nodeTaken, .outOfOrder].contains(problem.code)
        {
            return problem
        }
        let detail = problem?.detail ?? String(decoding: result.body.prefix(200), as: UTF8.self)
        switch result.status {
        case 401:
            return SyncClientError(
                .refused,
                "The server refused this device's token (\(detail)). It may have been revoked: ask your hub "
                    + "operator for a new token.", status: 401, problem: problem)
        case 403:
            return SyncClientError(.refused, "Not allowed: \(detail)", status: 403, problem: problem)
        case 400..<500:
            return SyncClientError(
                .refused, "The server refused the request (HTTP \(result.status)): \(detail)", status: result.status,
                problem: problem)
        case 507:
            return SyncClientError(
                .serverError,
                "The server is out of storage space (HTTP 507): it kept nothing of this request, and nothing is "
                    + "lost: the changes stay on this device. Sync again later; if this lasts, tell the server's "
                    + "operator (\(problem?.code ?? .storage)).", status: 507, problem: problem)
        default:
            return SyncClientError(
                .serverError, "The server failed (HTTP \(result.status)): \(detail). Try again later.",
                status: result.status, problem: problem)
        }
    }

    // MARK: libcurl

    /// One request exactly as given (no retry, no status interpretation, no compression): for tools and
    /// tests that need to send odd requests. `headers` replace the usual ones; the token is not added.
    public func raw(method: String, path: String, headers: [String], body: [UInt8]?) throws -> HTTPResult {
        try perform(method: method, path: path, body: body, coding: .identity, rawHeaders: headers)
    }

    private func perform(
        method: String, path: String, body: [UInt8]?, coding: ContentCoding, rawHeaders: [String]? = nil
    ) throws -> HTTPResult {
        let easy = try lock.withLock { idle.popLast() } ?? EasyHandle()
        easy.reset()
        defer { lock.withLock { idle.append(easy) } }
        var url = configuration.serverURL
        while url.hasSuffix("/") { url.removeLast() }
        url += path
        // Only the headers the server needs: a volunteer's nightly sync pays for each byte. No `Accept`
        // (libcurl's `*/*` removed: every answer is JSON or a problem document), no `Content-Type` (a body
        // without one is JSON: docs/protocol.md, section 6).
        var headers = [
            "Authorization: Bearer \(configuration.token)", "Accept-Encoding: \(ContentCoding.accepted)", "Expect:",
            "Accept:",
        ]
        var payload = body ?? []
        if let rawHeaders {
            headers = rawHeaders + ["Expect:"]
        } else if body != nil {
            headers.append("Content-Type:")  // libcurl's form type removed
            if let encoding = coding.header {
                headers.append("Content-Encoding: \(encoding)")
            } else if payload.count >= configuration.compressAbove {
                let coding = requestCoding
                payload = coding.compress(payload)
                if let encoding = coding.header { headers.append("Content-Encoding: \(encoding)") }
            }
        }
        try easy.set(CURLOPT_URL, url)
        try easy.set(CURLOPT_USERAGENT, configuration.userAgent)
        try easy.set(CURLOPT_NOSIGNAL, 1)
        // Answers are decompressed here, not by libcurl (which does not know zstd-fs1).
        try easy.set(CURLOPT_HTTP_CONTENT_DECODING, 0)
        try easy.set(CURLOPT_CONNECTTIMEOUT_MS, Int(configuration.connectTimeoutSeconds * 1000))
        try easy.set(CURLOPT_TIMEOUT_MS, Int(configuration.totalTimeoutSeconds * 1000))
        try easy.set(CURLOPT_LOW_SPEED_LIMIT, configuration.lowSpeedBytesPerSecond)
        try easy.set(CURLOPT_LOW_SPEED_TIME, configuration.lowSpeedSeconds)
        try easy.set(CURLOPT_SSL_VERIFYPEER, 1)
        try easy.set(CURLOPT_SSL_VERIFYHOST, 2)
        try easy.set(CURLOPT_PROTOCOLS_STR, "http,https")
        if let caFile = configuration.caFile {
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                throw SyncClientError(.configuration, "The CA file \(caFile) cannot be read.")
            }
            try easy.set(CURLOPT_CAINFO, caFile)
        }
        try easy.setHeaders(headers)
        easy.bodyLimit = configuration.maxAnswerBytes
        if method == "POST" {
            try easy.set(CURLOPT_POST, 1)
        } else if method != "GET" {
            try easy.set(CURLOPT_CUSTOMREQUEST, method)
        }
        let code = payload.withUnsafeBytes { raw -> CURLcode in
            if method == "POST" {
                _ = ccurl_setopt_off_t(easy.raw, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(raw.count))
                _ = ccurl_setopt_pointer(
                    easy.raw, CURLOPT_POSTFIELDS,
                    UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
            }
            return easy.perform()
        }
        if easy.bodyOverflowed {
            throw SyncClientError(
                .invalidResponse,
                "The server's answer is larger than \(configuration.maxAnswerBytes) bytes: refused. Check the server "
                    + "address.")
        }
        guard code == CURLE_OK else { throw transportError(code, url: url, easy: easy) }
        // libcurl reports success for an answer cut inside its headers (a status line came, not the blank
        // line after the headers): a cut like any other, not a server that is not FieldSync.
        guard easy.headersEnded else {
            throw SyncClientError(
                .connectionLost,
                "The connection to \(configuration.serverURL) broke in the answer's headers. Nothing is lost: the "
                    + "sync resumes where it stopped.")
        }
        let received =
            Int(ccurl_getinfo_off_t(easy.raw, CURLINFO_SIZE_DOWNLOAD_T))
            + Int(ccurl_getinfo_long(easy.raw, CURLINFO_HEADER_SIZE))
        let sent = Int(ccurl_getinfo_long(easy.raw, CURLINFO_REQUEST_SIZE))  // headers and body
        let retryAfter = easy.header("retry-after").flatMap(Double.init)
        // RFC 7694: the server lists the request codings it takes; the best of them from then on.
        if let accepted = easy.header("accept-encoding") {
            let best = ContentCoding.preferred(accepting: accepted)
            if best != .identity { lock.withLock { learntCoding = best } }
        }
        let status = Int(ccurl_getinfo_long(easy.raw, CURLINFO_RESPONSE_CODE))
        var answer = easy.body
        do throws(SyncError) {
            guard let coding = ContentCoding(header: easy.header("content-encoding")) else {
                throw SyncError(.invalidBatch, "unknown Content-Encoding '\(easy.header("content-encoding") ?? "")'")
            }
            answer = try coding.decompress(easy.body, limit: configuration.maxAnswerBytes)
        } catch  where (200..<300).contains(status) {
            throw SyncClientError(
                .invalidResponse, "The server's answer could not be decompressed (\(error.message)).", status: status)
        } catch {
            // A failure answer (a proxy's 503) is judged by its status, whatever its body.
        }
        return HTTPResult(
            status: status, body: answer,
            contentType: easy.header("content-type"), retryAfterSeconds: retryAfter, bytesSent: sent,
            bytesReceived: received)
    }

    private func transportError(_ code: CURLcode, url: String, easy: EasyHandle) -> SyncClientError {
        let reason = easy.errorText.isEmpty ? String(cString: curl_easy_strerror(code)) : easy.errorText
        let server = configuration.serverURL
        let number = Int(code.rawValue)
        switch code {
        case CURLE_COULDNT_CONNECT:
            return SyncClientError(
                .offline,
                "Cannot reach the server at \(server) (\(reason)). You may be offline, or the server is down: "
                    + "your changes are kept on this device; sync again when you have a signal.", curlCode: number)
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return SyncClientError(
                .dns,
                "Cannot find the server \(server) (\(reason)). Check the address, or your connection.",
                curlCode: number)
        case CURLE_OPERATION_TIMEDOUT:
            return SyncClientError(
                .timeout,
                "The server at \(server) did not answer in time, or the link is too slow (\(reason)). "
                    + "Your changes are kept; sync again where the signal is better.", curlCode: number)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            return SyncClientError(
                .tls,
                "The secure connection to \(server) failed (\(reason)). The server's certificate is not trusted: "
                    + "check the device's date and the server address, or give the right --ca-file.",
                curlCode: number)
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return SyncClientError(
                .configuration, "The server address \(server) is not a valid http(s) URL (\(reason)).",
                curlCode: number)
        case CURLE_BAD_CONTENT_ENCODING:
            return SyncClientError(
                .invalidResponse, "The server's answer could not be decompressed (\(reason)).", curlCode: number)
        default:
            return SyncClientError(
                .connectionLost,
                "The connection to \(server) broke (\(reason)). Nothing is lost: the sync resumes where it stopped.",
                curlCode: number)
        }
    }
}
