/// A collection's registers: what the merge decides on, one per field, and a profile's tombstone.
///
/// The storage keeps each register in a column (``TableLayout``); the merge and the checks of a batch
/// name registers by position only.
extension CollectionSchema {
    /// The tombstone register of a profile (value 1 once deleted).
    static let deletedRegister = "_deleted"

    var isProfile: Bool { kind == .profile }
    /// The position of the tombstone register (profiles only).
    var deletedIndex: Int { fields.count }
    /// Profiles: the fields then `_deleted`. Facts: the fields.
    var registers: [String] { fields.map(\.name) + (isProfile ? [Self.deletedRegister] : []) }

    /// Register position by name, including `_deleted` for profiles.
    func registerIndex(_ name: String) -> Int? {
        if let index = fieldIndex[name] { return index }
        return isProfile && name == Self.deletedRegister ? deletedIndex : nil
    }
}
