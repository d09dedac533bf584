// cluster.mjs: the processes a browser test needs, on free loopback ports:
// redis-server, signald nodes, coturn. Each is started by us, remembered by
// PID, and stopped by that PID within a bounded time (SIGTERM, then SIGKILL).
// Logs go to files in one temporary directory, kept for post-mortems.

import { spawn, execFileSync } from 'node:child_process';
import { openSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

// import.meta.dirname would need Node 20.11; Debian 12 ships Node 18.
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const signaldBin = process.env.SIGNALD_BIN || join(root, 'build/signald/signald');
const tokenBin = join(root, 'build/tools/signald-token');

// A port nobody listens on right now (the kernel picks it).
export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

// Polls check() until it returns something truthy; throws after timeoutMs.
export async function waitFor(what, check, timeoutMs = 10000, everyMs = 100) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const got = await check().catch(() => false);
    if (got) return got;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

async function httpOk(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  return res.ok;
}

export class Cluster {
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'signald-e2e-'));
    this.procs = new Map(); // name -> {child, exited: Promise<{code, signal}>}
    this.jwtSecret = 'e2e-secret';
    this.turnSecret = 'e2e-turn-secret';
    // Should the test process end without its after() hook (a crash, a
    // timeout, Ctrl-C), take the children along rather than leave them.
    process.once('exit', () => {
      for (const { child } of this.procs.values()) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });
    for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => process.exit(1));
  }

  run(name, cmd, args, env = {}) {
    const log = openSync(join(this.dir, `${name}.log`), 'a');
    const child = spawn(cmd, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', log, log],
    });
    const exited = new Promise((ok) => child.once('exit', (code, signal) => ok({ code, signal })));
    child.once('error', (err) => console.error(`${name}: ${err.message}`));
    this.procs.set(name, { child, exited });
    return child;
  }

  async startRedis() {
    this.redisPort = await freePort();
    this.run('redis', 'redis-server', ['--port', String(this.redisPort), '--bind', '127.0.0.1',
      '--save', '', '--appendonly', 'no']);
    await waitFor('redis', async () => {
      execFileSync('redis-cli', ['-p', String(this.redisPort), 'ping'], { stdio: 'ignore', timeout: 1000 });
      return true;
    });
  }

  async startTurn() {
    this.turnPort = await freePort();
    // A relay port range of our own, away from the usual ephemeral ports.
    const min = 20000 + Math.floor(Math.random() * 300) * 100;
    this.run('coturn', 'turnserver', ['-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1',
      `--listening-port=${this.turnPort}`, '--use-auth-secret',
      `--static-auth-secret=${this.turnSecret}`, '--realm=signald', '--no-tls', '--no-dtls',
      '--no-cli', '--allow-loopback-peers', `--min-port=${min}`, `--max-port=${min + 99}`,
      `--pidfile=${join(this.dir, 'turnserver.pid')}`, `--userdb=${join(this.dir, 'turndb')}`,
      '--log-file=stdout', '--simple-log']);
    await waitFor('coturn', async () =>
      readFileSync(join(this.dir, 'coturn.log'), 'utf8').includes('Total General servers'));
  }

  // Starts (or restarts, on its old port) signald node `name`; `extra` adds
  // settings.
  async startNode(name, port, extra = {}) {
    port ??= await freePort();
    const env = {
      PORT: String(port),
      BIND: '127.0.0.1',
      NODE_ID: name,
      REDIS_URL: `redis://127.0.0.1:${this.redisPort}/0`,
      JWT_SECRET: this.jwtSecret,
      STATIC_DIR: join(root, 'web'),
      // Loopback only: no external STUN server to wait for.
      WEBRTC_STUN_URLS: '',
      RECONNECT_GRACE_SECONDS: '10',
    };
    if (this.turnPort) {
      env.WEBRTC_TURN_URL = `turn:127.0.0.1:${this.turnPort}`;
      env.WEBRTC_TURN_SECRET = this.turnSecret;
    }
    Object.assign(env, extra);
    this.run(name, signaldBin, [], env);
    await waitFor(`${name} ready`, () => httpOk(`http://127.0.0.1:${port}/readyz`));
    return { name, port, http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}` };
  }

  // The part of a process's log that explains a bad exit: the sanitizer
  // report if there is one, else the last lines.
  logExcerpt(name, lines = 25) {
    const log = readFileSync(join(this.dir, `${name}.log`), 'utf8').split('\n');
    const at = log.findIndex((l) => /ERROR: AddressSanitizer|runtime error:|LeakSanitizer/.test(l));
    return (at >= 0 ? log.slice(at, at + lines) : log.slice(-lines)).join('\n');
  }

  // Asserts that a node ended with status 0 (end: what stop() returned).
  assertCleanExit(name, end) {
    if (end?.code === 0 && end.signal === null) return;
    throw new Error(`${name} ended with ${JSON.stringify(end)}; its log ` +
      `(${join(this.dir, `${name}.log`)}) says:\n${this.logExcerpt(name)}`);
  }

  token(sub, name) {
    return execFileSync(tokenBin, [sub, name], { env: { ...process.env, JWT_SECRET: this.jwtSecret } })
      .toString().trim();
  }

  // SIGKILL: the node vanishes without closing anything.
  async kill(name) {
    const p = this.procs.get(name);
    process.kill(p.child.pid, 'SIGKILL');
    await p.exited;
    this.procs.delete(name);
  }

  // SIGTERM, then SIGKILL after graceMs. Returns how it ended.
  async stop(name, graceMs = 15000) {
    const p = this.procs.get(name);
    if (!p) return null;
    this.procs.delete(name);
    if (p.child.exitCode !== null || p.child.signalCode !== null) return p.exited;
    process.kill(p.child.pid, 'SIGTERM');
    const timer = setTimeout(() => process.kill(p.child.pid, 'SIGKILL'), graceMs);
    const res = await p.exited;
    clearTimeout(timer);
    return res;
  }

  // Stops everything, nodes first (they want Redis while draining).
  async stopAll() {
    const names = [...this.procs.keys()];
    const nodes = names.filter((n) => n !== 'redis' && n !== 'coturn');
    const results = {};
    await Promise.all(nodes.map(async (n) => { results[n] = await this.stop(n); }));
    for (const n of ['coturn', 'redis']) results[n] = await this.stop(n, 5000);
    return results;
  }
}
