// Several gateway instances sharing one Redis (README D10, router.md §4.4): a cooldown started on
// one instance is honoured by the others at once, and by an instance that starts later.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { Mock, Gateway, MASTER_KEY } from '../lib/harness.js';
import { chatBody, post, get } from '../lib/util.js';

let mock;
let redis;      // { url, stop() }

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

// A Redis for this file: the one scripts/test-services.sh started, else our own redis-server.
async function startRedis() {
  if (process.env.SY_TEST_REDIS_URL) return { url: process.env.SY_TEST_REDIS_URL, stop: async () => {} };
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'sy-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  await until(() => new Promise((r) => {
    const c = net.connect(port, '127.0.0.1', () => { c.end(); r(true); });
    c.on('error', () => r(false));
  }), 'redis-server to listen');
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function until(fn, what, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const config = () => `
model_list:
  - model_name: shared
    litellm_params: {model: openai/gpt-4o, api_base: ${mock.base('mi')}, api_key: sk-up-mi}
    model_info: {id: dep-shared}
router_settings:
  redis_url: ${redis.url}
general_settings:
  master_key: ${MASTER_KEY}
`;

async function cooling(gw) {
  const h = await get(`${gw.url}/health`);
  return h.json.unhealthy_endpoints.some((e) => e.model_id === 'dep-shared' && e.state === 'cooling_down');
}

before(async () => {
  mock = await Mock.start();
  redis = await startRedis();
});

after(async () => {
  if (mock) await mock.stop();
  if (redis) await redis.stop();
});

test('a cooldown started on one instance is honoured by the others', async () => {
  const a = await Gateway.start(config());
  const b = await Gateway.start(config());
  try {
    assert.ok(a.logs.some((l) => l.includes('coordination: redis')), 'instance A logs its coordination');
    // Instance A sees a 429 with Retry-After: 5 and cools the deployment for 5 s.
    await mock.script({ tag: 'mi', times: 1, directives: { status: 429, retry_after: '5' } });
    const r = await post(`${a.url}/v1/chat/completions`, chatBody('shared', { num_retries: 0 }));
    assert.equal(r.status, 429, r.text);
    assert.equal((await mock.requests('mi')).length, 1);

    // Instance B learns it through Redis (pub/sub), without a request of its own.
    await until(() => cooling(b), 'instance B to see the cooldown');
    const rb = await post(`${b.url}/v1/chat/completions`, chatBody('shared', { num_retries: 0 }));
    assert.equal(rb.status, 429, rb.text);
    assert.match(rb.json.error.message, /^No deployments available for selected model/);
    const ra = Number(rb.headers.get('retry-after'));
    assert.ok(ra >= 1 && ra <= 5, `retry-after ${ra}`);
    assert.equal((await mock.requests('mi')).length, 1, 'instance B did not call the cooling deployment');

    // The cooldown is stored under LiteLLM's key, with the cooldown as TTL.
    const ttl = Number(execFileSync('redis-cli', ['-u', redis.url, 'PTTL', 'deployment:dep-shared:cooldown']).toString());
    assert.ok(ttl > 0 && ttl <= 5000, `PTTL ${ttl}`);

    // An instance that starts during the cooldown reads it from Redis when it subscribes.
    const c = await Gateway.start(config());
    try {
      await until(() => cooling(c), 'instance C to load the cooldown');
      const rc = await post(`${c.url}/v1/chat/completions`, chatBody('shared', { num_retries: 0 }));
      assert.equal(rc.status, 429);
      assert.equal((await mock.requests('mi')).length, 1);
    } finally {
      await c.stop();
    }
  } finally {
    await a.stop();
    await b.stop();
    await mock.reset();
  }
});

test('without Redis each instance is on its own, and says so', async () => {
  const gw = await Gateway.start(`
model_list:
  - model_name: solo
    litellm_params: {model: openai/gpt-4o, api_base: ${mock.base('solo')}, api_key: sk-up-solo}
general_settings:
  master_key: ${MASTER_KEY}
`, { env: { REDIS_URL: undefined, REDIS_HOST: undefined } });
  try {
    assert.ok(gw.logs.some((l) => l.includes('coordination: local (single instance only)')));
  } finally {
    await gw.stop();
  }
});
