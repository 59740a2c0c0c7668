/// A family as the duplicate check sees it: what volunteers typed at registration.
public struct FamilyCandidate: Sendable, Hashable {
    /// The record's id.
    public var id: String
    /// Families are only compared with families of their own city.
    public var city: String
    public var reference: String
    /// The head of household, in Latin or Arabic script, given name and family name in either order.
    public var headName: String
    public var phone: String?
    public var district: String?
    public var address: String?
    public var householdSize: Int?
    /// The association's id.
    public var association: String?

    public init(
        id: String, city: String, reference: String = "", headName: String, phone: String? = nil,
        district: String? = nil, address: String? = nil, householdSize: Int? = nil, association: String? = nil
    ) {
        self.id = id
        self.city = city
        self.reference = reference
        self.headName = headName
        self.phone = phone
        self.district = district
        self.address = address
        self.householdSize = householdSize
        self.association = association
    }
}

/// Two family ids, in no order: a pair an admin marked "not a duplicate".
public struct FamilyPair: Hashable, Sendable {
    public let first: String
    public let second: String

    public init(_ a: String, _ b: String) {
        (first, second) = a <= b ? (a, b) : (b, a)
    }
}

/// What the matcher compares, computed once per family.
struct FamilyFeatures: Sendable {
    /// The name as typed, for explanations.
    let name: String
    let tokens: [NameToken]
    let phone: PhoneKey?
    let reference: String?
    let district: String?
    /// The address's words (skeletons) and numbers, sorted: "Rue 12 n° 4, Derb Sultan" and
    /// "derb soltane rue 12 n 4" give the same key.
    let address: String?
    let size: Int?
    let association: String?

    init(_ family: FamilyCandidate) {
        name = family.headName.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        tokens = NameTransliteration.tokens(family.headName)
        phone = family.phone.flatMap(PhoneKey.init)
        reference = Self.nonEmpty(TextMatch.normalize(family.reference))
        district = family.district.flatMap { Self.nonEmpty(NameTransliteration.skeleton($0)) }
        address = family.address.flatMap { Self.nonEmpty(Self.addressKey($0)) }
        size = family.householdSize
        association = family.association.flatMap { Self.nonEmpty(TextMatch.normalize($0)) }
    }

    /// The household's features as the domain's index keeps them (``FamilyKeys``), without the name: enough to
    /// weigh everything but the names (``Scoring/mayReach(_:_:nameBound:atLeast:)``).
    init(
        reference: String?, phone: PhoneKey?, district: String?, address: String?, size: Int?, association: String?
    ) {
        name = ""
        tokens = []
        self.phone = phone
        self.reference = reference
        self.district = district
        self.address = address
        self.size = size
        self.association = association
    }

    static func nonEmpty(_ text: String) -> String? { text.isEmpty ? nil : text }

    static func addressKey(_ address: String) -> String {
        var words: [String] = []
        var digits = ""
        for scalar in address.unicodeScalars {
            if let digit = PhoneKey.digit(scalar) {
                digits.append(Character(Unicode.Scalar(digit + 48)))
            } else if !digits.isEmpty {
                words.append(digits)
                digits = ""
            }
        }
        if !digits.isEmpty { words.append(digits) }
        let ignored: Set<String> = ["r", "n", "nmr", "drb", "znk", "lt", "h"]
        words += NameTransliteration.tokens(address).map(\.skeleton).filter { !$0.isEmpty && !ignored.contains($0) }
        return Set(words).sorted().joined(separator: " ")
    }
}
