import HTTPTypes
import Hummingbird
import SyncCore

/// Checks the bearer token of every `/v1` request, then its rate.
///
/// A client address whose requests failed authentication more than `failures.burst` times (its bucket
/// refills at `failures.perSecond`) gets 429 before its token is even hashed, until the bucket refills.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let store: any SyncStore
    let limiter: RateLimiter
    /// Failed authentications per client address; nil: no limit.
    let failures: RateLimiter?

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let address = context.client?.description
        if let failures, let address, let wait = failures.wait(address) {
            throw HTTPProblem(
                .tooManyRequests, "auth-failures", "Too many failed authentications",
                "Requests from this address failed authentication more than \(Int(failures.burst)) times in a "
                    + "minute. Retry after the delay with a valid token.",
                headers: [.retryAfter: String(max(1, Int(wait.rounded(.up))))])
        }
        func refuse(_ why: String) -> HTTPProblem {
            if let failures, let address { failures.spend(address, 1) }
            return Self.unauthorized(why)
        }
        guard let header = request.headers[.authorization] else { throw refuse("missing") }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty, parts[1].count <= 256 else {
            throw refuse("malformed")
        }
        // Spaces and tabs around the token are not part of it (trimmed without Foundation: every request).
        let presented = Self.trimmed(parts[1])
        switch try await Tokens.verdict(on: presented, in: store) {
        case .unknown: throw refuse("unknown")
        case .revoked: throw refuse("revoked")
        case .valid(let record):
            if let wait = limiter.take(record.id) {
                throw HTTPProblem(
                    .tooManyRequests, "rate-limited", "Too many requests",
                    "This token sent more than \(Int(limiter.perSecond)) requests per second. Retry after the delay.",
                    headers: [.retryAfter: String(max(1, Int(wait.rounded(.up))))])
            }
            var context = context
            context.token = record
            context.logger[metadataKey: "sync.token"] = "\(record.id)"
            return try await next(request, context)
        }
    }

    /// `text` without the spaces and tabs around it.
    static func trimmed(_ text: Substring) -> String {
        let bytes = text.utf8
        var (start, end) = (bytes.startIndex, bytes.endIndex)
        func blank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        while start < end, blank(bytes[start]) { start = bytes.index(after: start) }
        while end > start, blank(bytes[bytes.index(before: end)]) { end = bytes.index(before: end) }
        return String(text[start..<end])
    }

    static func unauthorized(_ why: String) -> HTTPProblem {
        let detail: String
        switch why {
        case "missing": detail = "This endpoint needs an 'Authorization: Bearer <token>' header."
        case "malformed": detail = "The Authorization header must be 'Bearer <token>'."
        case "revoked": detail = "This token was revoked. Ask your hub operator or the admin for a new one."
        default: detail = "This token is not known to this server. Check that the device is enrolled with this server."
        }
        return HTTPProblem(
            .unauthorized, "unauthorized", "Unauthorized", detail,
            headers: [
                .wwwAuthenticate: why == "missing"
                    ? "Bearer realm=\"fieldsync\"" : "Bearer realm=\"fieldsync\", error=\"invalid_token\""
            ])
    }
}
