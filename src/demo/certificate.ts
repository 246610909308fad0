import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

/**
 * A self-signed certificate for `names` (SAN dNSNames; wildcards allowed) with an
 * EC P-256 key: generated in a few ms, fine for a demo or a test, trusted by nobody.
 */
export async function selfSignedCertificate(names: readonly string[], commonName = names[0] ?? 'localhost'): Promise<PemPair> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 30 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map((value) => ({ type: 2 as const, value })) },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** Writes a certificate and its key as cert.pem and key.pem into `dir` (whoever made the folder removes it); returns their paths. */
export function writePemPair(pair: PemPair, dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  writeFileSync(cert, pair.cert);
  writeFileSync(key, pair.key, { mode: 0o600 });
  return { cert, key };
}
