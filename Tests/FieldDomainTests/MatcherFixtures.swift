import FieldDomain

/// A city of `count` families that share nothing with the families tests check: names, phones and districts
/// of their own, so that the frequencies the matcher measures are those of a real city.
func makeCity(_ city: String = "Rabat", count: Int = 300) -> [FamilyCandidate] {
    let first = ["Hassan", "Rachid", "Naima", "Khadija", "Youssef", "Amina", "Omar", "Latifa", "Driss", "Souad"]
    let family = [
        "Tazi", "Berrada", "Filali", "Kettani", "Slaoui", "Naciri", "Rifi", "Jabri", "Saadi", "Sebti",
        "Chraibi", "Lahlou", "Ziani", "Bouzid", "Haddad",
    ]
    let districts = ["Agdal", "Takaddoum", "Youssoufia", "Akkari", "Hay Nahda", "Médina"]
    return (0..<count).map { index in
        FamilyCandidate(
            id: "city-\(index)", city: city, reference: "RAB-\(index)",
            headName: "\(first[index % first.count]) \(family[(index / first.count) % family.count])",
            phone: "06\(String(10_000_000 + index * 7919 % 90_000_000))", district: districts[index % districts.count],
            householdSize: 1 + index % 9, association: "assoc-\(index % 3)")
    }
}

func family(
    _ id: String, _ name: String, phone: String? = nil, district: String? = nil, address: String? = nil,
    size: Int? = nil, city: String = "Rabat"
) -> FamilyCandidate {
    FamilyCandidate(
        id: id, city: city, reference: "REF-\(id)", headName: name, phone: phone, district: district,
        address: address, householdSize: size)
}
