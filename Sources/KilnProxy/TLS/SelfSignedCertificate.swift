import Crypto
import Foundation
import SwiftASN1
import X509

/// A self-signed certificate for the embedded default, valid for DOMAIN and *.DOMAIN (and
/// 127.0.0.1 and ::1 when the domain is localhost).
enum SelfSignedCertificate {
    struct Generated {
        var certificatePEM: String
        var privateKeyPEM: String
    }

    static func make(domain: String, validity: TimeInterval = 3 * 365 * 24 * 3600) throws -> Generated {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Kiln")
            CommonName(domain)
        }
        let now = Date()
        var alternativeNames: [GeneralName] = [.dnsName(domain), .dnsName("*." + domain)]
        if domain == "localhost" {
            alternativeNames.append(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])))
            alternativeNames.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1]))))
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(validity),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                // Its own issuer: clients that are told to trust it (curl --cacert, a browser's
                // store) take it as the anchor, which OpenSSL accepts only from a CA certificate.
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(alternativeNames)
            },
            issuerPrivateKey: .init(key))
        return Generated(certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation)
    }
}
