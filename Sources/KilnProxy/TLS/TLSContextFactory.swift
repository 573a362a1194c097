import Foundation
import KilnCore
import Logging
import NIOSSL

/// The HTTPS certificate: the operator's PEM files, or a self-signed one for the domain and
/// `*.DOMAIN` made once and kept, so that browsers that were told to trust it keep trusting it.
enum TLSContextFactory {
    static func makeContext(_ source: TLSSource?, domain: String, logger: Logger) throws -> NIOSSLContext {
        let certificatePath: String
        let keyPath: String
        switch source {
        case .files(let certificate, let key):
            certificatePath = certificate
            keyPath = key
        case .selfSigned(let directory):
            certificatePath = directory + "/proxy-cert.pem"
            keyPath = directory + "/proxy-key.pem"
            if !FileManager.default.fileExists(atPath: certificatePath) || !FileManager.default.fileExists(atPath: keyPath) {
                let generated = try SelfSignedCertificate.make(domain: domain)
                try Data(generated.certificatePEM.utf8).write(to: URL(fileURLWithPath: certificatePath), options: .atomic)
                try Data(generated.privateKeyPEM.utf8).write(to: URL(fileURLWithPath: keyPath), options: .atomic)
                chmod(keyPath, 0o600)
                logger.notice("made a self-signed certificate", metadata: ["domain": "\(domain)", "path": "\(certificatePath)"])
            }
        case nil:
            throw KilnError(.badRequest, "HTTPS needs --cert and --key, or a data directory for a self-signed certificate")
        }
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw KilnError(.badRequest, "cannot load the TLS certificate or key (\(certificatePath), \(keyPath)): \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.applicationProtocols = ["h2", "http/1.1"]
        configuration.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: configuration)
    }
}

#if canImport(Glibc)
import Glibc
#endif
