import Foundation
import Hummingbird
import HummingbirdCore
import KilnCore
import KilnFiles
import KilnRunner
import Testing

@testable import KilnAPI

/// `?lines=` and `?offset=` of the logs routes: in range or a 400 naming the parameter.
@Suite struct LogWindowTests {
    let file = LogFile(in: ConfinedDirectory(path: "/nonexistent/kiln-log-window-test", owner: .process), at: HomePath(platform: "web.out"))

    func refusedField(_ query: String) -> String? {
        do throws(KilnError) {
            _ = try LogWindow.read(file, parameters: URI("/logs?\(query)").queryParameters)
            return nil
        } catch {
            #expect(error.httpStatus == 400)
            return error.context["field"]
        }
    }

    @Test(arguments: ["lines=-1", "lines=100001", "lines=1e3", "lines=99999999999999999999", "lines=nan"])
    func linesOutOfRangeAreRefused(query: String) {
        #expect(refusedField(query) == "lines")
    }

    @Test(arguments: ["offset=-1", "offset=18446744073709551616", "offset=x"])
    func offsetsThatAreNoByteCountAreRefused(query: String) {
        #expect(refusedField(query) == "offset")
    }

    @Test(arguments: ["lines=0", "lines=100000", "offset=18446744073709551615", ""])
    func boundsAreAccepted(query: String) {
        #expect(refusedField(query) == nil)
    }
}
