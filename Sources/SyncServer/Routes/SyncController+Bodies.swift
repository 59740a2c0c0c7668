import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SyncCore

/// Request bodies: their size and time limits, their media type, their decompression.
extension SyncController {
    /// Collects the body within the size limit and the time limit (a client sending one byte a second
    /// gets 408, and its connection closes).
    func readBody(_ request: Request) async throws -> ByteBuffer {
        let limit = configuration.maxBodyBytes
        let timeout = configuration.bodyTimeoutSeconds
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw HTTPProblem(
                .contentTooLarge, "too-large", "Body too large",
                "The request body is \(length) bytes; the limit is \(limit). Send smaller batches.")
        }
        let body = request.body
        return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask {
                do {
                    return try await body.collect(upTo: limit)
                } catch is NIOTooManyBytesError {
                    throw HTTPProblem(
                        .contentTooLarge, "too-large", "Body too large",
                        "The request body is over \(limit) bytes. Send smaller batches.")
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(timeout))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let buffer = first else {
                throw HTTPProblem(
                    .requestTimeout, "timeout", "Request too slow",
                    "The request body did not arrive within \(Int(timeout)) s.", headers: [.connection: "close"])
            }
            return buffer
        }
    }

    /// A token whose bodies decompressed to more than its budget (bytes a second, with a burst) gets 429
    /// until the budget refills: one token's bodies cannot keep the blocking threads from others' syncs.
    func checkDecompressionBudget(_ token: TokenRecord) throws {
        guard let decompression, let wait = decompression.wait(token.id) else { return }
        throw HTTPProblem(
            .tooManyRequests, "decompression-budget", "Too many bytes to decompress",
            "This token's request bodies decompressed to more than \(Int(decompression.perSecond)) bytes a "
                + "second. Retry after the delay.",
            headers: [.retryAfter: String(max(1, Int(wait.rounded(.up))))])
    }

    /// The body must be JSON (`application/json`, any parameters); a missing Content-Type is taken as JSON.
    func checkContentType(_ request: Request) throws {
        guard let type = request.headers[.contentType], type != "application/json" else { return }
        let media = type.split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        guard media == "application/json" else {
            throw HTTPProblem(
                .unsupportedMediaType, "unsupported-media-type", "Unsupported media type",
                "The body must be application/json, found \(type.prefix(60)).")
        }
    }

    func decodeBody(_ buffer: ByteBuffer, encoding: String?) throws -> [UInt8] {
        guard let coding = ContentCoding(header: encoding) else {
            throw HTTPProblem(
                .unsupportedMediaType, "unsupported-encoding", "Unsupported content encoding",
                "Content-Encoding '\(encoding?.prefix(40) ?? "")' is not supported; use zstd-fs1, zstd, gzip or none.",
                headers: [.acceptEncoding: ContentCoding.accepted])
        }
        do {
            // Straight from the receive buffer: no copy of the body before it is decompressed.
            let limit = configuration.maxDecompressedBytes
            return try buffer.withUnsafeReadableBytes { bytes in
                Result { () throws(SyncError) in try coding.decompress(bytes, limit: limit) }
            }.get()
        } catch  where error.code == .tooLarge {
            throw error
        } catch {
            throw HTTPProblem(.badRequest, "invalid-encoding", "Bad compressed body", error.message)
        }
    }
}
