// The key store becomes unreachable (auth-budgets-limits.md §11.4, README D11): readiness turns
// 503, cached virtual keys keep working for `cached_keys_grace_period`, then get 503 (never 401),
// and everything comes back when the store does. PostgreSQL only (a TCP proxy in front of the
// test's PostgreSQL is cut and restored); skipped without SY_TEST_PG_URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { Mock, Gateway, MASTER_KEY } from '../lib/harness.js';
import { chatBody, post, get } from '../lib/util.js';

const PG_URL = process.env.SY_TEST_PG_URL;
let mock;

// A TCP proxy to PostgreSQL that can be cut (every connection destroyed) and restored.
class Proxy {
  constructor(target) { this.target = target; this.socks = new Set(); }
  async listen(port = 0) {
    this.server = net.createServer((c) => {
      const u = net.connect(this.target.port, this.target.host);
      this.socks.add(c); this.socks.add(u);
      c.pipe(u); u.pipe(c);
      const drop = () => { c.destroy(); u.destroy(); this.socks.delete(c); this.socks.delete(u); };
      c.on('error', drop); u.on('error', drop); c.on('close', drop); u.on('close', drop);
    });
    await new Promise((r) => this.server.listen(port, '127.0.0.1', r));
    this.port = this.server.address().port;
  }
  async cut() {
    await new Promise((r) => { this.server.close(() => r()); for (const s of this.socks) s.destroy(); });
    this.socks.clear();
  }
}

async function until(fn, what, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => { mock = await Mock.start(); });
after(async () => { if (mock) await mock.stop(); });

test('store outage: readiness 503, cached keys for the grace period, then 503, then recovery', { skip: !PG_URL }, async () => {
  execFileSync('psql', [PG_URL, '-q', '-c',
    'DROP TABLE IF EXISTS sy_schema_migrations, "LiteLLM_VerificationToken", "LiteLLM_UserTable", ' +
    '"LiteLLM_TeamTable", "LiteLLM_TeamMembership", "LiteLLM_EndUserTable", "LiteLLM_SpendLogs", ' +
    'sy_spendlogs_v2, sy_token_renames CASCADE'],
  { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, PGOPTIONS: '--client-min-messages=warning' } });
  const u = new URL(PG_URL);
  const proxy = new Proxy({ host: u.hostname, port: Number(u.port || 5432) });
  await proxy.listen();
  const viaProxy = new URL(PG_URL);
  viaProxy.port = String(proxy.port);
  const gw = await Gateway.start(`
model_list:
  - model_name: m
    litellm_params: {model: openai/gpt-4o-mini, api_base: ${mock.base('dbo')}, api_key: sk-up-dbo}
general_settings:
  master_key: ${MASTER_KEY}
  cached_keys_grace_period: 2
`, { env: { DATABASE_URL: viaProxy.toString() } });
  try {
    const key = (await post(`${gw.url}/key/generate`, {})).json.key;
    assert.equal((await post(`${gw.url}/v1/chat/completions`, chatBody('m'), { key })).status, 200);
    await proxy.cut();
    await until(async () => (await get(`${gw.url}/health/readiness`, { key: null })).status === 503,
      'readiness to report the store down');
    // Within the grace period the cached key still works (or we are already past it on a slow
    // machine); after it, 503 and never 401.
    const r = await until(async () => {
      const x = await post(`${gw.url}/v1/chat/completions`, chatBody('m'), { key });
      assert.notEqual(x.status, 401, x.text);
      return x.status === 503 ? x : null;
    }, 'cached keys to be refused after the grace period');
    assert.match(r.json.error.message, /unreachable/);
    // The master key is not a stored key: it keeps working.
    assert.equal((await post(`${gw.url}/v1/chat/completions`, chatBody('m'))).status, 200);
    await proxy.listen(proxy.port);
    await until(async () => (await get(`${gw.url}/health/readiness`, { key: null })).status === 200,
      'readiness to recover');
    assert.equal((await post(`${gw.url}/v1/chat/completions`, chatBody('m'), { key })).status, 200);
  } finally {
    await gw.stop();
    await proxy.cut().catch(() => {});
  }
});
