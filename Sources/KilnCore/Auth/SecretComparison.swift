/// Comparing a presented secret with the expected one in time that does not depend on where the
/// two differ, so that timing tells a guesser nothing.
public enum SecretComparison {
    public static func equals(_ presented: String, _ expected: String) -> Bool {
        let a = Array(presented.utf8)
        let b = Array(expected.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
