internal import CCurl

/// libcurl's process-wide setup, done once before the first handle.
public enum Curl {
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
    }()

    /// The libcurl version string ("libcurl/7.88.1 OpenSSL/3.0.x zlib/1.2.13 …").
    public static var version: String {
        _ = initialized
        return String(cString: curl_version())
    }
}
