import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

export interface ChildEdge {
  readonly port: number;
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | null>;
  /** Everything the edge logged so far (JSON lines). */
  log(): string;
}

/** A config for one edge with a disk tier in front of `origin`. */
export function diskEdgeConfig(dir: string, origin: string, diskPath: string, extra = ''): string {
  const file = join(dir, `edge-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    `edge:
  listen: "127.0.0.1:0"
  access_log: false
  memory_size: 8MiB
  max_object_size: 64KiB
  disk: { path: "${diskPath}", size: 64MiB, max_object_size: 16MiB }
${extra}sites:
  www.example.test:
    origin: "${origin}"
`,
  );
  return file;
}

/** `geocdn edge --config FILE` in a child process (as another user when `uid` is given); resolves once it listens. */
export async function startChildEdge(config: string, opts: { uid?: number; gid?: number } = {}): Promise<ChildEdge> {
  const child = spawn(process.execPath, [cli, 'edge', '--config', config], { env: { ...process.env, GEOCDN_LOG_LEVEL: 'info' }, uid: opts.uid, gid: opts.gid });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let err = '';
  child.stdout.resume();
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /"address":"127\.0\.0\.1:(\d+)"/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    void exited.then((code) => reject(new Error(`edge exited (${code}): ${err}`)));
  });
  return { port, child, exited, log: () => err };
}

/**
 * Why a child edge cannot run as user `nobody` here, or undefined when it can (or
 * when we are not root and need not). Node or the build may sit in a folder only root
 * may enter (a Node from npx under /root, a checkout in /root).
 */
export function nobodyCannotRunEdge(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const r = spawnSync(process.execPath, ['-e', `require('node:fs').accessSync(${JSON.stringify(cli)})`], { uid: 65534, gid: 65534, timeout: 10_000 });
  return r.status === 0 ? undefined : `running as root, and user nobody cannot run ${process.execPath} or read ${cli}`;
}
