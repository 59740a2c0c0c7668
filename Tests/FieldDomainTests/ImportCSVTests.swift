import FieldDomain
import Foundation
import SyncCore
import Testing

/// Reading a spreadsheet's CSV: encodings, separators, quotes, line ends, and the header check.
@Suite("Import: the CSV file")
struct ImportCSVTests {
    @Test func aFrenchLocaleFileWithBOMSemicolonsQuotedLineBreaksAndCRLFIsRead() throws {
        let text =
            "\u{FEFF}city;association;reference;head_name;notes\r\n"
            + "Fès;amal;AM-1;فاطمة الزهراء بناني;\"two lines\r\nof notes; with a \"\"quote\"\"\"\r\n"
            + ";;;;\r\n"
            + "Fès;amal;AM-2; Élodie N'Diaye ;\r\n"
        let table = try CSVTable(Data(text.utf8))
        #expect(table.hadBOM)
        #expect(table.separator == ";")
        #expect(table.header == ["city", "association", "reference", "head_name", "notes"])
        #expect(table.rows.count == 2)
        #expect(table.rows[0].cells[3] == "فاطمة الزهراء بناني")
        #expect(table.rows[0].cells[4] == "two lines\r\nof notes; with a \"quote\"")
        // Spreadsheet rows: the quoted line break does not count, the empty row does.
        #expect(table.rows.map(\.line) == [2, 4])
        #expect(table.rows[1].cells[3] == "Élodie N'Diaye")
    }

    @Test func commasAndLFWithoutBOM() throws {
        let table = try CSVTable(Data("id,name,city\nnour,\"Nour, Rabat\",Rabat".utf8))
        #expect(!table.hadBOM)
        #expect(table.separator == ",")
        #expect(table.rows.map(\.line) == [2])
        #expect(table.rows.map(\.cells) == [["nour", "Nour, Rabat", "Rabat"]])
    }

    @Test(arguments: [
        ([UInt8](Data("city;name\n\"Fès;x\n".utf8)), "never closed"),
        ([0xFF, 0xFE, 0x63, 0x00], "UTF-16"),
        ([UInt8](Data("city;name\nF".utf8)) + [0xE8, 0x73, 0x3B, 0x78], "not UTF-8 text (line 2"),
        ([], "empty"),
        ([UInt8](Data(";;;\r\n".utf8)), "empty"),
    ])
    func badFilesAreRefusedWithASentence(bytes: [UInt8], expected: String) {
        #expect {
            _ = try CSVTable(Data(bytes))
        } throws: { error in
            (error as? ImportError)?.message.contains(expected) == true
        }
    }

    @Test func theHeaderCheckNamesMissingUnknownAndRepeatedColumns() throws {
        let table = try CSVTable(Data("City;reference;head_name;Téléphone;reference\n".utf8))
        #expect {
            _ = try ImportPlanner.plan(.families, table, state: ImportState())
        } throws: { error in
            let message = (error as? ImportError)?.message ?? ""
            return message.contains("missing column(s): association")
                && message.contains("unknown column(s): 'Téléphone'")
                && message.contains("column(s) given twice: reference")
        }
    }

    @Test func theTemplateIsAFileTheImportReads() throws {
        for kind in ImportKind.allCases {
            let table = try CSVTable(Data(kind.template.utf8))
            #expect(table.hadBOM && table.separator == ";" && table.rows.isEmpty)
            let plan = try ImportPlanner.plan(kind, table, state: ImportState())
            #expect(plan.rows.isEmpty)
            #expect(kind.guide.count == kind.columns.count)
        }
    }
}
