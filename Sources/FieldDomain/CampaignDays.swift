import Foundation

/// Campaign days in Morocco's time.
public enum CampaignDays {
    /// The first millisecond of `day` (YYYY-MM-DD) in Africa/Casablanca, or nil for a day that is not one.
    public static func start(of day: String) -> Int64? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Africa/Casablanca") ?? TimeZone(secondsFromGMT: 3600)
        formatter.dateFormat = "yyyy-MM-dd"
        guard day.utf8.count == 10, let date = formatter.date(from: day) else { return nil }
        return Int64(date.timeIntervalSince1970 * 1000)
    }
}
