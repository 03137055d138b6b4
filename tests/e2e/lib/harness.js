// Test harness: starts tools/mock_upstream and the switchyard binary as child processes on free
// loopback ports, and stops them after. Synchronises on what the processes print (the mock's
// "listening" line, the gateway's JSON "switchyard listening" log line), never on sleeps.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
export const BUILD_DIR = process.env.BUILD_DIR || path.join(ROOT, 'build');
export const GATEWAY_BIN = process.env.GATEWAY_BIN || path.join(BUILD_DIR, 'apps/switchyard/switchyard');
export const MOCK_BIN = process.env.MOCK_BIN || path.join(BUILD_DIR, 'tools/mock_upstream/mock_upstream');
const START_TIMEOUT_MS = 15000;

function waitForLine(child, predicate, what) {
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    const lines = [];
    const timer = setTimeout(() => {
      reject(new Error(`${what} did not start within ${START_TIMEOUT_MS} ms; output:\n${lines.join('\n')}`));
    }, START_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with code ${code} before starting; output:\n${lines.join('\n')}`));
    });
    rl.on('line', (line) => {
      lines.push(line);
      const v = predicate(line);
      if (v !== undefined && v !== null) {
        clearTimeout(timer);
        resolve(v);
      }
    });
  });
}

function exitPromise(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

export class Mock {
  static async start() {
    const child = spawn(MOCK_BIN, ['--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await waitForLine(child, (line) => {
      const m = line.match(/mock_upstream listening on 127\.0\.0\.1:(\d+)/);
      return m ? Number(m[1]) : null;
    }, 'mock_upstream');
    const mock = new Mock();
    mock.child = child;
    mock.port = port;
    mock.url = `http://127.0.0.1:${port}`;
    return mock;
  }
  base(tag = '') { return tag ? `${this.url}/${tag}/v1` : `${this.url}/v1`; }
  async reset() { await fetch(`${this.url}/__mock/reset`, { method: 'POST' }); }
  async script(entry) {
    const r = await fetch(`${this.url}/__mock/script`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(entry),
    });
    if (!r.ok) throw new Error(`mock script failed: ${r.status}`);
  }
  async requests(tag) {
    const q = tag !== undefined ? `?tag=${encodeURIComponent(tag)}` : '';
    const r = await fetch(`${this.url}/__mock/requests${q}`);
    return (await r.json()).requests;
  }
  async stats() { return (await fetch(`${this.url}/__mock/stats`)).json(); }
  async stop() {
    this.child.kill('SIGTERM');
    await exitPromise(this.child);
  }
}

export class Gateway {
  // config: YAML text. env: extra environment (a value of undefined removes the variable).
  // args: extra CLI args. host: --host value.
  static async start(config, { env = {}, args = [], host = '127.0.0.1' } = {}) {
    const dir = mkdtempSync(path.join(tmpdir(), 'sy-e2e-'));
    const cfgPath = path.join(dir, 'config.yaml');
    writeFileSync(cfgPath, config);
    const childEnv = { ...process.env, ...env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
    const child = spawn(GATEWAY_BIN,
      ['--config', cfgPath, '--port', '0', '--host', host, '--num_workers', '2', ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
    const gw = new Gateway();
    gw.child = child;
    gw.logs = [];
    gw.stderr = '';
    gw.waiters = new Set();
    gw.exitInfo = exitPromise(child);
    child.stderr.on('data', (d) => { gw.stderr += d.toString(); });
    // One reader for the whole life of the process: every stdout line lands in gw.logs once, and
    // waitForLog() waiters are checked against each new line.
    const rl = readline.createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      gw.logs.push(line);
      for (const w of [...gw.waiters]) w(line);
    });
    const port = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        gw.waiters.delete(check);
        reject(new Error(`switchyard did not start within ${START_TIMEOUT_MS} ms; output:\n${gw.logs.join('\n')}\n${gw.stderr}`));
      }, START_TIMEOUT_MS);
      function check(line) {
        try {
          const j = JSON.parse(line);
          if (j.message === 'switchyard listening') {
            clearTimeout(timer);
            gw.waiters.delete(check);
            resolve(j.port);
          }
        } catch { /* not JSON */ }
      }
      gw.waiters.add(check);
      gw.exitInfo.then(({ code, signal }) => {
        clearTimeout(timer);
        gw.waiters.delete(check);
        reject(new Error(`switchyard exited (code ${code}, signal ${signal}) before starting; output:\n${gw.logs.join('\n')}\n${gw.stderr}`));
      });
    });
    gw.port = port;
    gw.url = `http://127.0.0.1:${port}`;
    gw.dir = dir;
    gw.configPath = cfgPath;
    return gw;
  }
  // Resolves with the first stdout line (already seen or future) for which pred(line, json)
  // is truthy; json is the parsed line or null. Rejects after timeoutMs or when the process exits.
  waitForLog(pred, timeoutMs = 5000) {
    const test = (line) => {
      let j = null;
      try { j = JSON.parse(line); } catch { /* not JSON */ }
      return pred(line, j);
    };
    for (const l of this.logs) if (test(l)) return Promise.resolve(l);
    return new Promise((resolve, reject) => {
      const done = (fn, v) => { clearTimeout(timer); this.waiters.delete(check); fn(v); };
      const timer = setTimeout(() => done(reject, new Error(
        `no matching log line within ${timeoutMs} ms; last lines:\n${this.logs.slice(-20).join('\n')}`)), timeoutMs);
      const check = (line) => { if (test(line)) done(resolve, line); };
      this.waiters.add(check);
      this.exitInfo.then(() => {
        // Lines printed just before exit have been delivered by now or never will be.
        setImmediate(() => done(reject, new Error(`process exited; last lines:\n${this.logs.slice(-20).join('\n')}`)));
      });
    });
  }
  jsonLogs() {
    return this.logs.flatMap((l) => { try { return [JSON.parse(l)]; } catch { return []; } });
  }
  // Stops the process (if still running) and removes its temporary directory.
  async stop(signal = 'SIGTERM') {
    let res;
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      res = { code: this.child.exitCode, signal: this.child.signalCode };
    } else {
      this.child.kill(signal);
      res = await this.exitInfo;
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    return res;
  }
  exited() { return this.exitInfo; }
}

// Runs the binary to completion (for --check-config and startup failures).
export function runGateway(args, { env = {}, timeoutMs = 15000 } = {}) {
  return new Promise((resolve, reject) => {
    const childEnv = { ...process.env, ...env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
    const child = spawn(GATEWAY_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('timeout')); }, timeoutMs);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

export function writeTemp(name, text) {
  const dir = mkdtempSync(path.join(tmpdir(), 'sy-e2e-'));
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

export const MASTER_KEY = 'sk-test-master-key-0123456789abcdef';
