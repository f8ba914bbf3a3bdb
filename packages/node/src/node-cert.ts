// Node TLS certificates: one self-signed ECDSA P-256 certificate per node, made by
// `medledger init --tls`, serving its HTTPS API and both ends of its mutual-TLS peer links.
// Peers trust each other by the SHA-256 pin of the certificate's public key written in the
// peer list, not by a CA: no member holds a key that can mint certificates for the others
// (docs/deploy.md "Certificates").
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * @peculiar/x509, loaded only when a certificate is made (init, `tls cert`): a running node
 * only reads certificates, which node:crypto does, so it never loads the library or the
 * `reflect-metadata` polyfill the library needs.
 */
async function x509Library() {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  return x509;
}

/** ECDSA P-256 with SHA-256: what every TLS 1.3 stack and browser accepts (Ed25519 certificates are not). */
const CERT_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
/** Certificates made by init are valid ten years: a node's peers pin the key, so renewal is a key change. */
const CERT_VALIDITY_MS = 10 * 365 * 24 * 3600_000;

export interface NodeCertificate {
  /** PEM certificate. */
  cert: string;
  /** PEM PKCS#8 private key. */
  key: string;
  /** certificatePin(cert). */
  pin: string;
}

const pem = (label: string, der: ArrayBuffer): string =>
  `-----BEGIN ${label}-----\n${(
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? []
  ).join('\n')}\n-----END ${label}-----\n`;

/**
 * A fresh key pair and self-signed certificate for the node `name`, valid for `hosts` (DNS
 * names or IP addresses, each put in subjectAltName) and for TLS server and client use.
 * `now` is the issue time (valid from an hour before it, for skewed clocks).
 */
export async function makeNodeCertificate(opts: { name: string; hosts: string[]; now?: number }): Promise<NodeCertificate> {
  const now = opts.now ?? Date.now();
  const x509 = await x509Library();
  const keys = (await webcrypto.subtle.generateKey(CERT_ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)));
  serial[0] = (serial[0] as number) & 0x7f; // a positive INTEGER (RFC 5280 §4.1.2.2)
  const hosts = [...new Set(opts.hosts)];
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: [{ CN: [opts.name] }, { O: ['MedLedger node'] }],
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + CERT_VALIDITY_MS),
    signingAlgorithm: CERT_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(
        hosts.map((h) => (isIP(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h })),
      ),
    ],
  });
  const certPem = cert.toString('pem');
  return {
    cert: certPem.endsWith('\n') ? certPem : `${certPem}\n`,
    key: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
    pin: certificatePin(certPem),
  };
}

/**
 * The pin of a certificate: `sha256/` and the hex SHA-256 of its DER SubjectPublicKeyInfo,
 * so it names the key (as HPKP pins did, RFC 7469 §2.4) and survives re-issuing a
 * certificate for the same key. Throws on a value that is not a certificate.
 */
export function certificatePin(cert: string | Buffer | X509Certificate): string {
  const parsed = cert instanceof X509Certificate ? cert : new X509Certificate(cert);
  const spki = parsed.publicKey.export({ type: 'spki', format: 'der' });
  return `sha256/${createHash('sha256').update(spki).digest('hex')}`;
}

/** Whether `value` has the form of a certificatePin. */
export function isCertificatePin(value: unknown): value is string {
  return typeof value === 'string' && /^sha256\/[0-9a-f]{64}$/.test(value);
}
