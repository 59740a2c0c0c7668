import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import SyncCore

/// An error the server answers with an RFC 9457 problem document.
struct HTTPProblem: Error {
    var status: HTTPResponse.Status
    var problem: Problem
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ code: String, _ title: String, _ detail: String, headers: HTTPFields = [:]) {
        self.status = status
        self.problem = Problem(code: SyncError.Code(code), title: title, status: status.code, detail: detail)
        self.headers = headers
    }

    /// The status and problem type of each SyncCore error code: the one place they are decided (every
    /// `SyncError` a route throws reaches ``ProblemMiddleware``, which calls this).
    init(_ error: SyncError, serverClock: Int64) {
        let status: HTTPResponse.Status
        let title: String
        switch error.code {
        case .invalidBatch: (status, title) = (.badRequest, "Malformed request")
        case .unknownCollection, .unknownField, .invalidValue, .immutableFact, .duplicate, .deleted, .schema,
            .badReference:
            (status, title) = (.unprocessableContent, "Invalid change")
        case .outOfScope: (status, title) = (.forbidden, "Outside this token's scope")
        case .tooLarge: (status, title) = (.contentTooLarge, "Body too large")
        case .clockDrift: (status, title) = (.conflict, "Clock out of bounds")
        case .duplicateNode: (status, title) = (.conflict, "Duplicated node id")
        case .nodeTaken: (status, title) = (.forbidden, "Node id taken")
        case .wrongNode: (status, title) = (.forbidden, "Token bound to another node")
        case .outOfOrder: (status, title) = (.conflict, "Request out of order")
        case .notFound: (status, title) = (.notFound, "Not found")
        case .storage:
            (status, title) = (.init(code: 507, reasonPhrase: "Insufficient Storage"), "Server storage failed")
        case .diskFull:
            (status, title) = (.init(code: 507, reasonPhrase: "Insufficient Storage"), "Server disk full")
        case .unavailable: (status, title) = (.serviceUnavailable, "Server store unavailable")
        default: (status, title) = (.internalServerError, "Server error")
        }
        self.status = status
        self.problem = Problem(error, status: status.code, title: title, serverClockMillis: serverClock)
        if status.code == 507 { headers[.retryAfter] = "60" }
        // A store restarting is back in seconds: the client retries soon, and completes then.
        if status.code == 503 { headers[.retryAfter] = String(Self.unavailableRetrySeconds) }
    }

    /// The `Retry-After` of a 503 while the store is unavailable (seconds).
    static let unavailableRetrySeconds = 2

    func response() -> Response {
        var fields = headers
        fields[.contentType] = "application/problem+json"
        fields[.cacheControl] = "no-store"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: problem.encoded())))
    }
}

/// Turns every error into a problem document: a bad request never gets a bare 500 or a dropped connection.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let metrics: ServerMetrics

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPProblem {
            metrics.error(error.problem.code.rawValue)
            return error.response()
        } catch let error as SyncError {
            let problem = HTTPProblem(error, serverClock: Int64(clamping: SystemClock().nowMillis()))
            if problem.status.code >= 500 {
                context.logger.error("request failed", metadata: ["sync.error": "\(error.code)"])
            }
            metrics.error(problem.problem.code.rawValue)
            return problem.response()
        } catch let error as HTTPParserError {
            // A body that breaks HTTP's framing (a chunk size of 20 hex digits): nothing after it can be
            // read, so the connection closes once this is sent.
            metrics.error("malformed-http")
            return HTTPProblem(
                .badRequest, "malformed-http", "Malformed HTTP",
                "The request breaks HTTP/1.1 framing (\(error)).", headers: [.connection: "close"]
            )
            .response()
        } catch is NIOTooManyBytesError {
            metrics.error("too-large")
            return HTTPProblem(.contentTooLarge, "too-large", "Body too large", "The request body is over the limit.")
                .response()
        } catch let error as any HTTPResponseError {
            if error.status == .notFound, let allowed = SyncController.methods[request.uri.path] {
                metrics.error("method-not-allowed")
                return HTTPProblem(
                    .methodNotAllowed, "method-not-allowed", "Method not allowed",
                    "\(request.uri.path) answers \(allowed) only, not \(request.method).", headers: [.allow: allowed]
                )
                .response()
            }
            let code: String
            switch error.status.code {
            case 404: code = "not-found"
            case 405: code = "method-not-allowed"
            case 413: code = "too-large"
            default: code = "http-\(error.status.code)"
            }
            metrics.error(code)
            return HTTPProblem(
                error.status, code, error.status.reasonPhrase,
                "\(error.status.reasonPhrase): \(request.method) \(request.uri.path)."
            )
            .response()
        } catch {
            context.logger.error("unexpected error", metadata: ["sync.error": "\(type(of: error))"])
            metrics.error("internal")
            return HTTPProblem(.internalServerError, "internal", "Server error", "The server failed; it was logged.")
                .response()
        }
    }
}
