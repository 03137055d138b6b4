// Health routes (passive observation, no provider calls), graceful SIGTERM drain, JSON access logs.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Mock, Gateway, MASTER_KEY } from '../lib/harness.js';
import { chatBody, post, get, streamRaw, parseData, tryConnect } from '../lib/util.js';

let mock;
let gw;

const config = () => `
model_list:
  - model_name: good
    litellm_params: {model: openai/gpt-4o, api_base: ${mock.base('h1')}, api_key: sk-upstream-h1}
  - model_name: bad
    litellm_params: {model: openai/gpt-4o-mini, api_base: ${mock.base('h2')}, api_key: sk-upstream-h2}
router_settings:
  num_retries: 0
general_settings:
  master_key: ${MASTER_KEY}
`;

before(async () => {
  mock = await Mock.start();
  gw = await Gateway.start(config());
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
});

beforeEach(async () => { await mock.reset(); });

test('/health/liveliness and /health/liveness return "I\'m alive!"', async () => {
  for (const p of ['/health/liveliness', '/health/liveness']) {
    const r = await get(`${gw.url}${p}`, { key: null });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') || '', /application\/json/);
    assert.equal(r.json, "I'm alive!", `${p} body: ${r.text}`);
  }
});

test('/health/readiness → 200 healthy', async () => {
  const r = await get(`${gw.url}/health/readiness`, { key: null });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'connected');
  assert.equal(r.json.db, 'connected');
  assert.ok(r.json.litellm_version, 'litellm_version');
  assert.equal((await mock.stats()).total, 0, 'readiness never calls a model');
});

test('/health reports observed state without calling the upstream', async () => {
  const fresh = await Gateway.start(config());
  try {
    const h0 = await get(`${fresh.url}/health`);
    assert.equal(h0.status, 200, h0.text);
    const all0 = [...h0.json.healthy_endpoints, ...h0.json.unhealthy_endpoints];
    assert.deepEqual(all0.map((e) => e.model_name).sort(), ['bad', 'good'], 'every deployment listed');
    assert.equal(h0.json.unhealthy_count, 0);
    assert.equal(h0.json.healthy_count, 2);
    for (const e of h0.json.healthy_endpoints) {
      assert.equal(e.observed, false, 'no traffic yet → observed: false');
      assert.ok(e.model_id, 'model_id');
    }
    assert.equal(h0.json.healthy_endpoints.find((e) => e.model_name === 'good').model, 'openai/gpt-4o');
    assert.equal((await mock.stats()).total, 0, '/health made no upstream request');

    const ok = await post(`${fresh.url}/v1/chat/completions`, chatBody('good'));
    assert.equal(ok.status, 200);
    const fail = await post(`${fresh.url}/v1/chat/completions`,
      chatBody('bad', { mock: { status: 500, message: 'deployment on fire' } }));
    assert.equal(fail.status, 500);
    const badId = fail.headers.get('x-litellm-model-id');
    const before = (await mock.stats()).total;
    assert.equal(before, 2);

    const h1 = await get(`${fresh.url}/health`);
    assert.equal(h1.status, 200);
    const after = (await mock.stats()).total;
    assert.equal(after, before, '/health must not spend tokens on provider calls');
    const unhealthy = h1.json.unhealthy_endpoints;
    assert.equal(unhealthy.length, 1, `unhealthy: ${JSON.stringify(unhealthy)}`);
    assert.equal(unhealthy[0].model_name, 'bad');
    assert.equal(unhealthy[0].model, 'openai/gpt-4o-mini');
    if (badId) assert.equal(unhealthy[0].model_id, badId);
    assert.match(String(unhealthy[0].error), /deployment on fire|InternalServerError|500/,
      'admins see the last error');
    const healthy = h1.json.healthy_endpoints;
    assert.deepEqual(healthy.map((e) => e.model_name), ['good']);
    assert.equal(healthy[0].observed, true);
    assert.equal(h1.json.healthy_count, 1);
    assert.equal(h1.json.unhealthy_count, 1);

    const hm = await get(`${fresh.url}/health?model=good`);
    assert.equal(hm.status, 200);
    assert.deepEqual([...hm.json.healthy_endpoints, ...hm.json.unhealthy_endpoints].map((e) => e.model_name), ['good']);
    assert.equal((await mock.stats()).total, before);
  } finally {
    await fresh.stop();
  }
});

test('logs are JSON lines with call_id, model_group, status, duration_ms per request', async () => {
  const ok = await post(`${gw.url}/v1/chat/completions`, chatBody('good'));
  assert.equal(ok.status, 200);
  const fail = await post(`${gw.url}/v1/chat/completions`, chatBody('bad', { mock: { status: 503 } }));
  assert.equal(fail.status, 503);
  for (const [res, group, status] of [[ok, 'good', 200], [fail, 'bad', 503]]) {
    const callId = res.headers.get('x-litellm-call-id');
    assert.ok(callId, 'x-litellm-call-id');
    const line = await gw.waitForLog((_l, j) => j && j.call_id === callId, 3000);
    const j = JSON.parse(line);
    assert.equal(j.model_group, group);
    assert.equal(j.status, status);
    assert.equal(typeof j.duration_ms, 'number');
    assert.ok(j.duration_ms >= 0);
    assert.ok(j.level, 'level');
    assert.ok(j.ts || j.time || j.timestamp, `timestamp field in ${line}`);
  }
  const nonJson = gw.logs.filter((l) => { try { JSON.parse(l); return false; } catch { return true; } });
  assert.deepEqual(nonJson, [], 'every stdout line is JSON');
});

test('SIGTERM drains an in-flight stream, refuses new connections, exits 0', async () => {
  const g = await Gateway.start(config());
  const port = g.port;
  let refusedWhileStreaming = null;
  let sigtermSent = false;
  let probe = null;
  const s = await streamRaw(`${g.url}/v1/chat/completions`,
    chatBody('good', { stream: true, mock: { inter_chunk_ms: 250, chunks: 8 } }), {
      onEvent: () => {
        if (sigtermSent) return;
        sigtermSent = true;
        g.child.kill('SIGTERM');
        // Poll (bounded) until the listener is closed, while the stream is still running.
        probe = (async () => {
          await g.waitForLog((l) => /shutting down|drain/i.test(l), 3000);
          const deadline = performance.now() + 2000;
          while (performance.now() < deadline) {
            const r = await tryConnect(port);
            if (r === 'ECONNREFUSED') { refusedWhileStreaming = performance.now(); return; }
          }
        })();
      },
    });
  const streamEnd = performance.now();
  await probe;
  assert.equal(s.status, 200);
  assert.ok(sigtermSent, 'SIGTERM was sent during the stream');
  assert.equal(s.error, undefined, `stream errored: ${s.error}`);
  assert.ok(s.raw.endsWith('data: [DONE]\n\n'), `the in-flight stream completes:\n${s.raw.slice(-300)}`);
  const content = s.events.map(parseData).filter((c) => c?.choices?.[0]?.delta?.content).length;
  assert.equal(content, 8, 'every chunk delivered');
  assert.ok(refusedWhileStreaming !== null, 'new connections are refused after SIGTERM');
  assert.ok(refusedWhileStreaming < streamEnd, 'the listener closed while the stream was still draining');
  const { code, signal } = await g.exited();
  assert.equal(signal, null);
  assert.equal(code, 0, `exit code; stderr: ${g.stderr}`);
  assert.equal(await tryConnect(port), 'ECONNREFUSED');
  await g.stop();  // already exited: only removes its temporary directory
});
