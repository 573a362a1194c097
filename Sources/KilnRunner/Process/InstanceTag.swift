/// A short tag of a platform instance (its data directory), so that what two platforms on one
/// host make outside their data directories (CPU groups, exit files in /dev/shm) stays apart.
public enum InstanceTag {
    public static func of(_ instance: String) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in instance.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return String(hash, radix: 16)
    }
}
