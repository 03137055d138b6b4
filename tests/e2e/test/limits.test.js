// Client rate limits and prices end to end (issue 6; auth-budgets-limits.md §8, §10, §11):
// rpm/tpm/parallel limits of a virtual key, customer (end-user) limits on master-key calls,
// x-ratelimit-* headers on success and on 429, two instances sharing one Redis behaving as one,
// and x-litellm-response-cost from the bundled price table (and /spend/logs agreeing with it).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { Mock, Gateway, MASTER_KEY } from '../lib/harness.js';
import { chatBody, post, get, assertEnvelope } from '../lib/util.js';

// gpt-4o in the bundled map (auth-budgets-limits.md §8.1).
const GPT4O_IN = 2.5e-6;
const GPT4O_OUT = 1e-5;
const NO_REDIS = { REDIS_URL: undefined, REDIS_HOST: undefined, REDIS_PORT: undefined, DATABASE_URL: undefined };

const config = (mock, tag) => `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: ${mock.base(tag)}, api_key: sk-up-1}
  - model_name: custom-priced
    litellm_params: {model: openai/my-finetune, api_base: ${mock.base(tag)}, api_key: sk-up-1,
                     input_cost_per_token: 0.001, output_cost_per_token: 0.002}
  - model_name: unpriced
    litellm_params: {model: openai/no-such-model-xyz, api_base: ${mock.base(tag)}, api_key: sk-up-1}
general_settings:
  master_key: ${MASTER_KEY}
`;

const chat = (gw, key, extra = {}, model = 'gpt-4o') =>
  post(`${gw.url}/v1/chat/completions`, chatBody(model, extra), { key });

function assertRateLimited(r, type) {
  assertEnvelope(assert, r, 429);
  assert.equal(r.headers.get('rate_limit_type'), type, r.text);
  const ra = Number(r.headers.get('retry-after'));
  assert.ok(Number.isInteger(ra) && ra >= 1 && ra <= 60, `retry-after ${r.headers.get('retry-after')}`);
  assert.match(r.headers.get('reset_at') || '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
  assert.match(r.json.error.message, /^Rate limit exceeded for /);
}

describe('rate limits and prices (one instance)', () => {
  let mock;
  let gw;
  let dir;
  const tag = 'lim';
  const gen = (body) => post(`${gw.url}/key/generate`, body);
  const mockCalls = async () => (await mock.requests(tag)).length;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sy-limits-'));
    mock = await Mock.start();
    gw = await Gateway.start(config(mock, tag), { env: NO_REDIS, args: ['--db', path.join(dir, 'sy.db')] });
  });
  after(async () => {
    if (gw) await gw.stop();
    if (mock) await mock.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('rpm_limit 3: the 4th call in a minute gets 429 with retry-after and x-ratelimit-*, and never reaches the upstream', async () => {
    const { key } = (await gen({ rpm_limit: 3, tpm_limit: 100000 })).json;
    const before = await mockCalls();
    for (let i = 0; i < 3; i++) {
      const r = await chat(gw, key);
      assert.equal(r.status, 200, r.text);
      // D24: the caller's tightest gateway limit on success.
      assert.equal(r.headers.get('x-ratelimit-limit-requests'), '3');
      assert.equal(r.headers.get('x-ratelimit-remaining-requests'), String(2 - i));
      assert.equal(r.headers.get('x-ratelimit-api_key-limit-requests'), '3');
      assert.equal(r.headers.get('x-ratelimit-limit-tokens'), '100000');
      assert.ok(Number(r.headers.get('x-ratelimit-remaining-tokens')) < 100000);
    }
    const r = await chat(gw, key);
    assertRateLimited(r, 'requests');
    assert.equal(r.headers.get('x-ratelimit-limit-requests'), '3');
    assert.equal(r.headers.get('x-ratelimit-remaining-requests'), '0');
    assert.equal(r.headers.get('x-ratelimit-limit-tokens'), '100000');
    assert.ok(r.headers.get('x-ratelimit-remaining-tokens') !== null);
    assert.equal(await mockCalls(), before + 3, 'the rejected call never reached the upstream');
    // Rejected calls are not counted, and nothing was billed for them.
    assertRateLimited(await chat(gw, key), 'requests');
    const logs = await get(`${gw.url}/spend/logs?api_key=${key}`);
    assert.equal(logs.json.filter((row) => row.status === 'success').length, 3, logs.text);
  });

  test('tpm_limit: once the window holds the limit in tokens, the next call gets 429 (tokens)', async () => {
    const { key } = (await gen({ tpm_limit: 30 })).json;
    const long = { messages: [{ role: 'user', content: 'x '.repeat(100) }] };
    const first = await chat(gw, key, long);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('x-ratelimit-limit-tokens'), '30');
    const r = await chat(gw, key, long);
    assertRateLimited(r, 'tokens');
    assert.equal(r.headers.get('x-ratelimit-limit-tokens'), '30');
    assert.equal(r.headers.get('x-ratelimit-remaining-tokens'), '0');
  });

  test('max_parallel_requests 1: of two concurrent slow calls one gets 429, and the slot comes back', async () => {
    const { key } = (await gen({ max_parallel_requests: 1 })).json;
    const slow = { mock: { delay_ms: 800 } };
    const [a, b] = await Promise.all([chat(gw, key, slow), chat(gw, key, slow)]);
    const statuses = [a.status, b.status].sort();
    assert.deepEqual(statuses, [200, 429], `${a.text} / ${b.text}`);
    const rejected = a.status === 429 ? a : b;
    assertRateLimited(rejected, 'max_parallel_requests');
    assert.equal(rejected.headers.get('retry-after'), '1');
    assert.equal((await chat(gw, key)).status, 200, 'the slot was released');
  });

  test("a customer's rpm_limit applies to master-key calls that name it in `user` (D6)", async () => {
    const c = await post(`${gw.url}/customer/new`, { user_id: 'cust-rl', rpm_limit: 2 });
    assert.equal(c.status, 200, c.text);
    for (let i = 0; i < 2; i++) {
      const r = await chat(gw, MASTER_KEY, { user: 'cust-rl' });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('x-ratelimit-end_user-limit-requests'), '2');
    }
    const r = await chat(gw, MASTER_KEY, { user: 'cust-rl' });
    assertRateLimited(r, 'requests');
    assert.match(r.json.error.message, /end_user: cust-rl/);
    // The master key itself is not limited, nor another end user.
    const other = await chat(gw, MASTER_KEY, { user: 'someone-else' });
    assert.equal(other.status, 200, other.text);
    assert.equal(other.headers.get('x-ratelimit-limit-requests'), null, 'no gateway limit applies');
  });

  test('x-litellm-response-cost is the price-table cost of the upstream usage', async () => {
    const { key } = (await gen({})).json;
    const r = await chat(gw, key, { messages: [{ role: 'user', content: 'price me '.repeat(20) }] });
    assert.equal(r.status, 200, r.text);
    const u = r.json.usage;
    const expected = u.prompt_tokens * GPT4O_IN + u.completion_tokens * GPT4O_OUT;
    const cost = Number(r.headers.get('x-litellm-response-cost'));
    assert.ok(cost > 0, `cost ${cost}`);
    assert.ok(Math.abs(cost - expected) < 1e-12, `${cost} vs ${expected}`);
    // No limit on this key: no gateway x-ratelimit-* headers.
    assert.equal(r.headers.get('x-ratelimit-limit-requests'), null);
    // Per-deployment prices win over the map.
    const c = await chat(gw, key, {}, 'custom-priced');
    const cu = c.json.usage;
    assert.ok(Math.abs(Number(c.headers.get('x-litellm-response-cost')) -
      (cu.prompt_tokens * 0.001 + cu.completion_tokens * 0.002)) < 1e-12);
    // Unpriced: 0, and one warning for the model.
    const z = await chat(gw, key, {}, 'unpriced');
    assert.equal(z.status, 200, z.text);
    assert.equal(Number(z.headers.get('x-litellm-response-cost')), 0);
    await chat(gw, key, {}, 'unpriced');
    const warns = gw.logs.filter((l) => l.includes('no-such-model-xyz') && l.includes('has no price'));
    assert.equal(warns.length, 1, warns.join('\n'));
  });

  test('/spend/logs totals equal the sum of x-litellm-response-cost (price table)', async () => {
    const { key } = (await gen({ rpm_limit: 100 })).json;
    let sum = 0;
    for (let i = 0; i < 4; i++) {
      const r = await chat(gw, key, { messages: [{ role: 'user', content: 'y'.repeat(30 * (i + 1)) }] });
      assert.equal(r.status, 200, r.text);
      sum += Number(r.headers.get('x-litellm-response-cost'));
    }
    assert.ok(sum > 0);
    const logs = await get(`${gw.url}/spend/logs?api_key=${key}`);
    assert.equal(logs.json.length, 4, logs.text);
    const total = logs.json.reduce((a, row) => a + row.spend, 0);
    assert.ok(Math.abs(total - sum) < 1e-12, `${total} vs ${sum}`);
    const info = await get(`${gw.url}/key/info?key=${key}`);
    assert.ok(Math.abs(info.json.info.spend - sum) < 1e-12, info.text);
  });
});

// --- several instances ----------------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

async function until(fn, what, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// The Redis scripts/test-services.sh started, else our own redis-server.
async function startRedis() {
  if (process.env.SY_TEST_REDIS_URL) return { url: process.env.SY_TEST_REDIS_URL, stop: async () => {} };
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'sy-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  await until(() => new Promise((r) => {
    const c = net.connect(port, '127.0.0.1', () => { c.end(); r(true); });
    c.on('error', () => r(false));
  }), 'redis-server to listen');
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('rate limits shared through Redis (two instances)', () => {
  let mock;
  let redis;
  let dir;
  const gws = [];
  const tag = 'lim2';

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sy-limits2-'));
    mock = await Mock.start();
    redis = await startRedis();
    const env = { ...NO_REDIS, REDIS_URL: redis.url };
    for (const name of ['a', 'b']) {
      gws.push(await Gateway.start(config(mock, tag), { env, args: ['--db', path.join(dir, `${name}.db`)] }));
    }
  });
  after(async () => {
    for (const gw of gws) await gw.stop();
    if (mock) await mock.stop();
    if (redis) await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('rpm_limit 3 over both instances: the 4th call is rejected, wherever it lands', async () => {
    for (const gw of gws) {
      assert.ok(gw.logs.some((l) => l.includes('coordination: redis')), gw.logs.join('\n'));
    }
    // The same key on both instances (each has its own SQLite store): same hash, same counters.
    const key = `sk-shared-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    for (const gw of gws) {
      const r = await post(`${gw.url}/key/generate`, { key, rpm_limit: 3 });
      assert.equal(r.status, 200, r.text);
    }
    const before = (await mock.requests(tag)).length;
    const order = [0, 1, 0];
    for (const [i, n] of order.entries()) {
      const r = await chat(gws[n], key);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('x-ratelimit-remaining-requests'), String(2 - i), `call ${i} on ${n}`);
    }
    const r = await chat(gws[1], key);
    assertRateLimited(r, 'requests');
    assert.equal(r.headers.get('x-ratelimit-remaining-requests'), '0');
    assertRateLimited(await chat(gws[0], key), 'requests');
    assert.equal((await mock.requests(tag)).length, before + 3);
  });
});
