public import Foundation

/// A volunteer of the platform's list, to be enrolled with a device of their own.
public struct Volunteer: Sendable, Hashable {
    public var name: String
    public var city: String
    public var association: String?
    public var phone: String?

    public init(name: String, city: String, association: String? = nil, phone: String? = nil) {
        self.name = name
        self.city = city
        self.association = association
        self.phone = phone
    }
}

/// The volunteers of a CSV list (`name`, `city`, and optionally `association`, `phone`: the platform's own
/// export, a spreadsheet's `;` or `,`), with every row that cannot be enrolled named by its line.
public struct VolunteerList: Sendable {
    public static let columns = ["name", "city", "association", "phone"]
    /// The template an admin fills in (UTF-8 with a BOM, so that a spreadsheet shows Arabic right).
    public static let template =
        "\u{FEFF}name;city;association;phone\r\nAmina El Idrissi;Fès;assoc-fes-1;0612345678\r\n"

    public var volunteers: [Volunteer] = []
    /// Rows not enrolled: line and reason.
    public var problems: [Problem] = []

    public struct Problem: Sendable, Hashable {
        public var line: Int
        public var reason: String
    }

    /// Reads the list; `taken`: names that already hold an active token (revocation is by name, so a name
    /// must name one volunteer). Throws a sentence when the file or its header cannot be used at all.
    public init(_ data: Data, taken: Set<String> = []) throws(ImportError) {
        let table = try CSVTable(data)
        let header = table.header.map { $0.lowercased() }
        var position: [String: Int] = [:]
        for (index, name) in header.enumerated() {
            guard Self.columns.contains(name) else {
                throw ImportError(
                    "Column '\(name)' is not one of a volunteer list's: \(Self.columns.joined(separator: ", ")).")
            }
            guard position.updateValue(index, forKey: name) == nil else {
                throw ImportError("Column '\(name)' appears twice in the header.")
            }
        }
        for required in ["name", "city"] where position[required] == nil {
            throw ImportError("The header has no '\(required)' column (see --template).")
        }
        var seen = [String: Int]()
        for row in table.rows {
            func cell(_ column: String) -> String? {
                guard let index = position[column], index < row.cells.count, !row.cells[index].isEmpty else {
                    return nil
                }
                return row.cells[index]
            }
            guard let name = cell("name"), name.count <= 100 else {
                problems.append(Problem(line: row.line, reason: "no name (or more than 100 characters)"))
                continue
            }
            guard let city = cell("city") else {
                problems.append(Problem(line: row.line, reason: "\(name): no city"))
                continue
            }
            if let first = seen[name.lowercased()] {
                problems.append(
                    Problem(
                        line: row.line,
                        reason: "\(name): the same name as line \(first) (add a family name or an initial)"))
                continue
            }
            if taken.contains(name.lowercased()) {
                problems.append(
                    Problem(
                        line: row.line,
                        reason: "\(name): already enrolled (revoke the old token first, or change the name)"))
                continue
            }
            seen[name.lowercased()] = row.line
            volunteers.append(Volunteer(name: name, city: city, association: cell("association"), phone: cell("phone")))
        }
    }
}

/// What a volunteer's device needs to start: the server, its token, its city and the volunteer. One small
/// JSON file per volunteer (mode 0600: it holds the token), read by `field init --enrol FILE`.
public struct Enrolment: Sendable, Hashable, Codable {
    /// The format's version.
    public var fieldsyncEnrolment = 1
    public var server: String
    public var token: String
    public var city: String
    public var volunteer: String
    public var association: String?
    public var phone: String?

    enum CodingKeys: String, CodingKey {
        case fieldsyncEnrolment = "fieldsync_enrolment"
        case server, token, city, volunteer, association, phone
    }

    public init(server: String, token: String, volunteer: Volunteer) {
        self.server = server
        self.token = token
        self.city = volunteer.city
        self.volunteer = volunteer.name
        self.association = volunteer.association
        self.phone = volunteer.phone
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }

    /// Reads an enrolment file's content; a sentence for the volunteer when it is not one.
    public init(decoding data: Data) throws(ImportError) {
        guard data.count <= 64 << 10, let decoded = try? JSONDecoder().decode(Self.self, from: data) else {
            throw ImportError("This is not an enrolment file: ask your coordinator for yours.")
        }
        guard decoded.fieldsyncEnrolment == 1 else {
            throw ImportError("This enrolment file is of a newer version: update the field app.")
        }
        guard !decoded.token.isEmpty, !decoded.token.contains(where: \.isWhitespace), !decoded.city.isEmpty,
            !decoded.volunteer.isEmpty, let url = URL(string: decoded.server),
            ["http", "https"].contains(url.scheme ?? ""), url.host != nil
        else { throw ImportError("This enrolment file is damaged: ask your coordinator for a new one.") }
        self = decoded
    }

    /// A file name for a volunteer's enrolment: letters and digits of the name (accents and Arabic kept),
    /// spaces as '-', and the list's position to keep two files apart.
    public static func fileName(_ volunteer: Volunteer, index: Int) -> String {
        let kept = volunteer.name.unicodeScalars.map { scalar -> String in
            CharacterSet.alphanumerics.contains(scalar) ? String(scalar) : "-"
        }.joined()
        let name = kept.split(separator: "-").joined(separator: "-").prefix(60)
        return String(format: "%04d", index + 1) + "-" + name + ".enrol"
    }
}
