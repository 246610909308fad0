import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/tmp.js';

// bin/geocdn, the installed command: it sets glibc's heap trim threshold (unless the
// environment has one) and execs node on dist/cli.js, so the server is that very process.

const wrapper = fileURLToPath(new URL('../../bin/geocdn', import.meta.url));
const dist = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const skip = !existsSync('/proc/self/environ') ? 'no /proc (not Linux)' : !existsSync(dist) ? 'dist/cli.js is not built (npm test builds it)' : false;

/** Starts `geocdn edge` through the wrapper and returns what its process has in /proc, then stops it. */
async function started(env: NodeJS.ProcessEnv): Promise<{ environ: string[]; cmdline: string }> {
  const dir = tempDir('geocdn-bin-');
  const config = join(dir, 'geocdn.yaml');
  writeFileSync(config, 'edge:\n  listen: "127.0.0.1:0"\nsites:\n  www.example.test:\n    origin: "http://127.0.0.1:9"\n');
  const child = spawn('sh', [wrapper, 'edge', '--config', config], { env: { ...env, GEOCDN_LOG_LEVEL: 'info' } });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (/"address":"127\.0\.0\.1:\d+"/.test(err)) resolve();
      });
      void exited.then((code) => reject(new Error(`edge exited (${code}): ${err}`)));
    });
    return {
      environ: readFileSync(`/proc/${child.pid}/environ`, 'latin1').split('\0'),
      cmdline: readFileSync(`/proc/${child.pid}/cmdline`, 'latin1').split('\0').join(' '),
    };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

describe('bin/geocdn', { skip }, () => {
  it('runs the edge as node itself (exec, no shell left over) with MALLOC_TRIM_THRESHOLD_ set to 64 MiB', async () => {
    const env = { ...process.env };
    delete env.MALLOC_TRIM_THRESHOLD_;
    const p = await started(env);
    assert.match(p.cmdline, /node.* .*dist\/cli\.js edge --config /);
    assert.ok(p.environ.includes('MALLOC_TRIM_THRESHOLD_=67108864'), p.environ.filter((e) => e.startsWith('MALLOC')).join(', '));
  });

  it('keeps a threshold the environment already sets', async () => {
    const p = await started({ ...process.env, MALLOC_TRIM_THRESHOLD_: '1048576' });
    assert.ok(p.environ.includes('MALLOC_TRIM_THRESHOLD_=1048576'));
  });
});
