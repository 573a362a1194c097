import KilnCore
import Testing

/// The disk quota's figures as people read them: a build past it is told the step, the quota and
/// what each of its folders held.
@Suite struct BuildQuotaTests {
    @Test func theDiskQuotaCoversMoreThanTheImage() {
        #expect(BuildQuota.standard.diskBytes == 4 << 30)
        #expect(BuildQuota.standard.diskBytes >= BuildQuota.standard.imageBytes)
    }

    @Test func bytesAreShownInBinaryUnitsRoundedUp() {
        #expect(BuildDiskUse.shown(0) == "0 B")
        #expect(BuildDiskUse.shown(1023) == "1023 B")
        #expect(BuildDiskUse.shown(1024) == "1 KiB")
        #expect(BuildDiskUse.shown(2 << 20) == "2 MiB")
        #expect(BuildDiskUse.shown(4 << 30) == "4 GiB")
        #expect(BuildDiskUse.shown(4_509_715_660) == "4.2 GiB")
        // Just past a quota never reads as the quota.
        #expect(BuildDiskUse.shown((4 << 30) + 1) == "4.1 GiB")
        #expect(BuildDiskUse.shown(3 << 40) == "3 TiB")
        #expect(BuildDiskUse.shown(5000 << 40) == "5000 TiB")
        #expect(BuildDiskUse.shown(.max).hasSuffix(" TiB"))
    }

    @Test func aBuildPastItsDiskQuotaIsToldWhatEachFolderHeld() {
        let use = BuildDiskUse(image: 3 << 30, cache: 1_288_490_188, log: 2048)
        #expect(use.exceeds(4 << 30))
        #expect(!use.exceeds(5 << 30))
        #expect(
            use.overQuota(4 << 30)
                == "more disk than the build's quota (4 GiB): the build's folders held 4.3 GiB (the image 3 GiB, the dependency cache 1.2 GiB, the log 2 KiB)"
        )
        #expect(BuildDiskUse(image: .max, cache: .max, log: 1).total == .max)
    }
}
