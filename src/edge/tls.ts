import { X509Certificate } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { type SecureContext, createSecureContext } from 'node:tls';
import { GeocdnError } from '../core/errors.js';
import type { Logger } from '../core/log.js';

/** A certificate chain and its private key, as PEM file paths. */
export interface CertificateFiles {
  readonly cert: string;
  readonly key: string;
}

export interface LoadedCertificate {
  readonly files: CertificateFiles;
  /** Lower-case DNS names it is valid for: SAN dNSName entries, else the subject CN (RFC 6125 §6.4.4). */
  readonly names: readonly string[];
  readonly subject: string;
  readonly validTo: string;
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly context: SecureContext;
}

/** Every certificate of an edge, indexed by name; built whole, then swapped in one reference. */
export interface CertificateSet {
  readonly certificates: readonly LoadedCertificate[];
  /** Exact names. */
  readonly exact: ReadonlyMap<string, LoadedCertificate>;
  /** `*.example.test` stored as `example.test`: one label only (RFC 6125 §6.4.3). */
  readonly wildcard: ReadonlyMap<string, LoadedCertificate>;
  /** The first configured certificate: for clients without SNI or with a name no certificate has. */
  readonly fallback: LoadedCertificate;
}

/** The DNS names of a certificate: its SAN dNSNames, or its CN when it has none. */
export function certificateNames(x509: X509Certificate): string[] {
  const san = x509.subjectAltName;
  const names: string[] = [];
  if (san) {
    for (const part of san.split(/,\s*/)) {
      if (part.startsWith('DNS:')) names.push(part.slice(4).toLowerCase());
    }
  }
  if (names.length > 0) return names;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x509.subject);
  return cn ? [cn[1]!.toLowerCase()] : [];
}

function loadOne(files: CertificateFiles): LoadedCertificate {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = readFileSync(files.cert);
    key = readFileSync(files.key);
  } catch (e) {
    throw new GeocdnError('GEOCDN_TLS_CERT', `cannot read certificate: ${(e as Error).message}`, { file: files.cert });
  }
  try {
    // createSecureContext refuses a key that does not belong to the certificate ("key values mismatch").
    const context = createSecureContext({ cert, key });
    const x509 = new X509Certificate(cert);
    return { files, names: certificateNames(x509), subject: x509.subject.replace(/\n/g, ', '), validTo: x509.validTo, cert, key, context };
  } catch (e) {
    throw new GeocdnError('GEOCDN_TLS_CERT', `bad certificate or key (${files.key}): ${(e as Error).message}`, { file: files.cert });
  }
}

/** Reads and checks every certificate; throws GEOCDN_TLS_CERT on the first unreadable or mismatched one. */
export function loadCertificateSet(files: readonly CertificateFiles[]): CertificateSet {
  if (files.length === 0) throw new GeocdnError('GEOCDN_TLS_CERT', 'edge.tls needs at least one certificate');
  const certificates = files.map(loadOne);
  const exact = new Map<string, LoadedCertificate>();
  const wildcard = new Map<string, LoadedCertificate>();
  for (const c of certificates) {
    for (const n of c.names) {
      // The first certificate that names a host wins, as in the config's order.
      if (n.startsWith('*.')) {
        if (!wildcard.has(n.slice(2))) wildcard.set(n.slice(2), c);
      } else if (!exact.has(n)) exact.set(n, c);
    }
  }
  return { certificates, exact, wildcard, fallback: certificates[0]! };
}

/** The certificate for an SNI server name: exact name, then a one-label wildcard, then the default. */
export function selectCertificate(set: CertificateSet, servername: string | undefined): LoadedCertificate {
  if (!servername) return set.fallback;
  let name = servername.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  const exact = set.exact.get(name);
  if (exact) return exact;
  const dot = name.indexOf('.');
  return (dot > 0 ? set.wildcard.get(name.slice(dot + 1)) : undefined) ?? set.fallback;
}

export interface TlsCertificates {
  /** The set in use now. */
  current(): CertificateSet;
  /** For `tls.createServer({ SNICallback })`. */
  readonly sni: (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;
  /** Reads the files again; a set that fails to load leaves the current one serving. True when a new set was swapped in. */
  reload(): boolean;
  close(): void;
}

export interface TlsCertificateOptions {
  readonly log: Logger;
  /** Watch the files' folders and reload on a change. */
  readonly watch: boolean;
  /** Called after a new set was swapped in (the server's default context follows it). */
  readonly onChange?: (set: CertificateSet) => void;
  /** Quiet time after a file event before reloading: a cert and its key are usually written one after the other. */
  readonly debounceMs?: number;
}

function sameFiles(a: CertificateSet, b: readonly { cert: Buffer; key: Buffer }[]): boolean {
  return a.certificates.length === b.length && a.certificates.every((c, i) => c.cert.equals(b[i]!.cert) && c.key.equals(b[i]!.key));
}

/** Loads the certificates (throws GEOCDN_TLS_CERT when they cannot serve) and keeps them current. */
export function createTlsCertificates(files: readonly CertificateFiles[], opts: TlsCertificateOptions): TlsCertificates {
  const { log } = opts;
  let set = loadCertificateSet(files);
  warnExpired(set, log);
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;

  function reload(): boolean {
    let next: CertificateSet;
    try {
      // Unchanged bytes (an editor touching a file, a rename in the folder) rebuild nothing.
      const bytes = files.map((f) => ({ cert: readFileSync(f.cert), key: readFileSync(f.key) }));
      if (sameFiles(set, bytes)) return false;
      next = loadCertificateSet(files);
    } catch (e) {
      const err = e as GeocdnError;
      log.error({ code: err.code ?? 'GEOCDN_TLS_CERT', err: err.message }, 'certificate reload failed: keeping the certificates in use');
      return false;
    }
    set = next;
    warnExpired(set, log);
    log.info({ certificates: set.certificates.map((c) => ({ subject: c.subject, names: c.names, valid_to: c.validTo })) }, 'certificates reloaded');
    opts.onChange?.(set);
    return true;
  }

  if (opts.watch) {
    const names = new Set(files.flatMap((f) => [basename(f.cert), basename(f.key)]));
    // The folders, not the files: a file replaced by rename (editors, certbot, Kubernetes secrets) ends a file watch.
    for (const dir of new Set(files.flatMap((f) => [dirname(f.cert), dirname(f.key)]))) {
      try {
        const w = watch(dir, { persistent: false }, (_event, name) => {
          if (name !== null && !names.has(String(name)) && !String(name).startsWith('..')) return;
          clearTimeout(timer);
          timer = setTimeout(reload, opts.debounceMs ?? 100);
          timer.unref();
        });
        w.on('error', (e: Error) => log.error({ dir, err: e.message }, 'certificate folder watch failed'));
        watchers.push(w);
      } catch (e) {
        log.error({ dir, err: (e as Error).message }, 'cannot watch certificate folder: reloads need a restart');
      }
    }
  }

  return {
    current: () => set,
    sni: (servername, cb) => cb(null, selectCertificate(set, servername).context),
    reload,
    close(): void {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}

function warnExpired(set: CertificateSet, log: Logger): void {
  const now = Date.now();
  for (const c of set.certificates) {
    if (Date.parse(c.validTo) < now) log.warn({ subject: c.subject, valid_to: c.validTo, file: c.files.cert }, 'certificate has expired');
  }
}
