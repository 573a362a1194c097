import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A password the operator keeps in a file (`--routes-password-file`), read once at start. The
/// file must be a regular file of root or of this server's user that others cannot read or
/// write; its first line is the password.
struct PasswordFile {
    /// A password longer than this is not a password (Redis' own are far shorter).
    static let maximumBytes = 4096

    let path: String

    func read() throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw refused("cannot open it: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        // The checks are on the opened file, so a rename in between changes nothing.
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw refused("cannot stat it: \(String(cString: strerror(errno)))") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw refused("it is not a regular file") }
        guard info.st_uid == 0 || info.st_uid == geteuid() else {
            throw refused("it belongs to uid \(info.st_uid), neither root nor this server's user")
        }
        guard info.st_mode & 0o007 == 0 else {
            throw refused("others may read or write it (mode \(String(info.st_mode & 0o777, radix: 8))); chmod o-rwx it")
        }
        let bytes: [UInt8]
        do {
            bytes = Array(try FileHandle(fileDescriptor: fd, closeOnDealloc: false).read(upToCount: Self.maximumBytes + 1) ?? Data())
        } catch {
            throw refused("cannot read it: \(error)")
        }
        guard bytes.count <= Self.maximumBytes else { throw refused("it is longer than \(Self.maximumBytes) bytes") }
        let firstLine = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).first ?? []
        let line = firstLine.last == UInt8(ascii: "\r") ? firstLine.dropLast() : firstLine
        guard let password = String(validating: line, as: UTF8.self), !password.isEmpty else {
            throw refused("its first line is empty or not UTF-8")
        }
        return password
    }

    private func refused(_ why: String) -> CLIError {
        CLIError.user("the password file \(path) is refused: \(why)")
    }
}
