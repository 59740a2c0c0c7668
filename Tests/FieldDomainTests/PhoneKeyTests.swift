import FieldDomain
import SyncCore
import Testing

@Suite struct PhoneKeyTests {
    @Test(arguments: [
        "0612345678", "06 12 34 56 78", "06.12.34.56.78", "06-12-34-56-78", "+212612345678", "+212 6 12 34 56 78",
        "00212612345678", "212612345678", "+212 (0)6 12 34 56 78", "٠٦١٢٣٤٥٦٧٨", "۰۶۱۲۳۴۵۶۷۸", "+٢١٢٦١٢٣٤٥٦٧٨",
    ])
    func moroccanMobileFormatsShareOneKey(typed: String) throws {
        let key = try #require(PhoneKey(typed))
        #expect(key.digits == "612345678")
        #expect(key.national == "0612345678")
        #expect(key.isMoroccan)
        #expect(key.line == "mobile")
    }

    @Test func fixedLinesAndOtherMobiles() throws {
        #expect(try #require(PhoneKey("05 22 12 34 56")).line == "fixed")
        #expect(try #require(PhoneKey("07 00 11 22 33")).line == "mobile")
        #expect(PhoneKey("05 22 12 34 56") == PhoneKey("+212 522-123456"))
    }

    @Test func foreignAndShortNumbers() throws {
        let french = try #require(PhoneKey("+33 6 12 34 56 78"))
        #expect(!french.isMoroccan)
        #expect(french.digits == "12345678")
        #expect(PhoneKey("+216 98 123 456") == PhoneKey("98 123 456"))
        #expect(PhoneKey("+216 98 123 456")?.isMoroccan == false)
        #expect(PhoneKey("12 34") == nil)
        #expect(PhoneKey("") == nil)
        #expect(PhoneKey("0612345678") != PhoneKey("0712345678"))
    }

    @Test func maskedForMessages() throws {
        #expect(try #require(PhoneKey("+212612345678")).masked == "0612…78")
    }
}

@Suite struct FamilyCandidateRecordTests {
    @Test func readsAFamiliesRecord() throws {
        let candidate = try #require(
            FamilyCandidate(record: [
                "id": .text("f1"), "city": .text("Fès"), "reference": .text("FES-1"), "head_name": .text("Driss Tazi"),
                "phone": .text("0612345678"), "household_size": .integer(4), "district": .text(""),
                "association": .null,
            ]))
        #expect(candidate.id == "f1" && candidate.city == "Fès" && candidate.headName == "Driss Tazi")
        #expect(candidate.householdSize == 4 && candidate.phone == "0612345678")
        #expect(candidate.district == nil && candidate.association == nil && candidate.address == nil)
        #expect(FamilyCandidate(record: ["head_name": .text("Driss Tazi")]) == nil)
    }
}
