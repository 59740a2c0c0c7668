internal import CCurl

/// One libcurl easy handle with its header list and buffers; freed in `deinit`.
final class EasyHandle {
    let raw: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var sink = Sink()
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    final class Sink {
        var body: [UInt8] = []
        /// The most body bytes taken; past them the transfer stops (`bodyOverflowed`).
        var limit = Int.max
        var overflowed = false
        /// The answer's header fields: names in lower case, values without the blanks around them.
        var headers: [(String, String)] = []
        /// Whether the blank line that ends the last answer's headers came.
        var headersEnded = false

        /// One header line as libcurl hands it over (with its CRLF); a status line starts a new answer
        /// (after a redirect or a 100), a blank line ends its headers. Byte by byte: this runs for every
        /// line of every answer.
        func addHeaderLine(_ line: UnsafeBufferPointer<UInt8>) {
            if line.starts(with: "HTTP/".utf8) {
                headers.removeAll()
                headersEnded = false
                return
            }
            if line.allSatisfy({ $0 == 0x0D || $0 == 0x0A }) {
                headersEnded = true
                return
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
            func blank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
            var (start, end) = (colon + 1, line.count)
            while start < end, blank(line[start]) { start += 1 }
            while end > start, blank(line[end - 1]) { end -= 1 }
            let name = line[..<colon].map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
            headers.append(
                (
                    String(decoding: name, as: UTF8.self),
                    String(decoding: UnsafeBufferPointer(rebasing: line[start..<end]), as: UTF8.self)
                ))
        }
    }

    init() throws {
        _ = Curl.version  // curl_global_init, once
        guard let raw = curl_easy_init() else {
            throw SyncClientError(.configuration, "libcurl could not create a handle (out of memory?).")
        }
        self.raw = raw
        reset()
    }

    deinit {
        if let headerList { curl_slist_free_all(headerList) }
        curl_easy_cleanup(raw)
        errorBuffer.deallocate()
    }

    /// Clears the options and buffers of the last request; the connection stays open for reuse.
    func reset() {
        curl_easy_reset(raw)
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
        sink = Sink()
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let context = Unmanaged.passUnretained(sink).toOpaque()
        _ = ccurl_setopt_write_callback(raw) { data, size, count, context in
            guard let data, let context else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            guard sink.body.count + length <= sink.limit else {
                sink.overflowed = true
                return 0  // libcurl stops the transfer (CURLE_WRITE_ERROR)
            }
            data.withMemoryRebound(to: UInt8.self, capacity: length) {
                sink.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
            }
            return length
        }
        _ = ccurl_setopt_pointer(raw, CURLOPT_WRITEDATA, context)
        _ = ccurl_setopt_header_callback(raw) { data, size, count, context in
            guard let data, let context else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            data.withMemoryRebound(to: UInt8.self, capacity: length) {
                sink.addHeaderLine(UnsafeBufferPointer(start: $0, count: length))
            }
            return length
        }
        _ = ccurl_setopt_pointer(raw, CURLOPT_HEADERDATA, context)
        _ = ccurl_setopt_pointer(raw, CURLOPT_ERRORBUFFER, errorBuffer)
    }

    var body: [UInt8] { sink.body }
    /// The most body bytes the next answer may bring (as sent, before decompression).
    var bodyLimit: Int {
        get { sink.limit }
        set { sink.limit = newValue }
    }
    /// The answer brought more than ``bodyLimit``: the transfer was stopped.
    var bodyOverflowed: Bool { sink.overflowed }
    /// Whether the last answer's headers came whole (see ``Sink/headersEnded``).
    var headersEnded: Bool { sink.headersEnded }
    var errorText: String { String(cString: errorBuffer) }

    func header(_ name: String) -> String? { sink.headers.last { $0.0 == name }?.1 }

    func set(_ option: CURLoption, _ value: String) throws {
        try check(ccurl_setopt_string(raw, option, value), option)
    }

    func set(_ option: CURLoption, _ value: Int) throws {
        try check(ccurl_setopt_long(raw, option, value), option)
    }

    func setHeaders(_ lines: [String]) throws {
        for line in lines { headerList = curl_slist_append(headerList, line) }
        try check(ccurl_setopt_slist(raw, CURLOPT_HTTPHEADER, headerList), CURLOPT_HTTPHEADER)
    }

    func perform() -> CURLcode {
        sink.body.removeAll(keepingCapacity: true)
        return curl_easy_perform(raw)
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws {
        guard code == CURLE_OK else {
            throw SyncClientError(
                .configuration,
                "libcurl refused option \(option.rawValue): \(String(cString: curl_easy_strerror(code))).")
        }
    }
}
