// Every row of the error table a user can hit in this release: request validation, unknown
// model, body size, client-side credentials, upstream failures, timeouts, unknown routes.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { Mock, Gateway, MASTER_KEY } from '../lib/harness.js';
import { client, chatBody, post, get, assertEnvelope, closedPort } from '../lib/util.js';

let mock;
let gw;
let deadPort;

before(async () => {
  mock = await Mock.start();
  deadPort = await closedPort();
  gw = await Gateway.start(`
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: ${mock.base('e1')}, api_key: sk-upstream-e1}
  - model_name: embed
    litellm_params: {model: openai/text-embedding-3-small, api_base: ${mock.base('e2')}, api_key: sk-upstream-e2}
  - model_name: dead
    litellm_params: {model: openai/gpt-4o, api_base: http://127.0.0.1:${deadPort}/v1, api_key: sk-upstream-dead}
  - model_name: slow
    litellm_params: {model: openai/gpt-4o, api_base: ${mock.base('slow')}, api_key: sk-upstream-slow, timeout: 0.5}
router_settings:
  num_retries: 0
  disable_cooldowns: true
litellm_settings:
  num_retries: 0
general_settings:
  master_key: ${MASTER_KEY}
  max_request_size_mb: 1
`);
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
});

beforeEach(async () => { await mock.reset(); });

const chatUrl = () => `${gw.url}/v1/chat/completions`;
const oa = () => client(`${gw.url}/v1`);

test('malformed JSON → 400', async () => {
  const r = await post(chatUrl(), '{"model": "gpt-4o", "messages": [');
  const e = assertEnvelope(assert, r, 400);
  assert.equal(e.type, 'invalid_request_error');
  const r2 = await post(chatUrl(), 'not json at all');
  assertEnvelope(assert, r2, 400);
  assert.equal((await mock.stats()).total, 0);
});

test('missing model → 400', async () => {
  const r = await post(chatUrl(), { messages: [{ role: 'user', content: 'hi' }] });
  const e = assertEnvelope(assert, r, 400);
  assert.equal(e.type, 'invalid_request_error');
  assert.match(e.message, /model/);
});

test('missing or empty messages → 400', async () => {
  const r = await post(chatUrl(), { model: 'gpt-4o' });
  const e = assertEnvelope(assert, r, 400);
  assert.equal(e.type, 'invalid_request_error');
  assert.match(e.message, /messages/);
  const r2 = await post(chatUrl(), { model: 'gpt-4o', messages: [] });
  assertEnvelope(assert, r2, 400);
  assert.equal((await mock.stats()).total, 0);
});

test('wrong field type (temperature: "hot") → 400', async () => {
  const r = await post(chatUrl(), chatBody('gpt-4o', { temperature: 'hot' }));
  const e = assertEnvelope(assert, r, 400);
  assert.equal(e.type, 'invalid_request_error');
  assert.match(e.message, /temperature/);
  const r2 = await post(chatUrl(), { model: 42, messages: [{ role: 'user', content: 'hi' }] });
  assertEnvelope(assert, r2, 400);
  const r3 = await post(chatUrl(), { model: 'gpt-4o', messages: 'hi' });
  assertEnvelope(assert, r3, 400);
  assert.equal((await mock.stats()).total, 0);
});

test('unknown model → 400 invalid_request_error, param model, valid names listed', async () => {
  const r = await post(`${gw.url}/chat/completions`, chatBody('no-such-model'));
  const e = assertEnvelope(assert, r, 400);
  assert.equal(e.type, 'invalid_request_error');
  assert.equal(e.param, 'model');
  assert.ok(e.message.startsWith('/chat/completions: Invalid model name passed in model=no-such-model'),
    `message: ${e.message}`);
  for (const name of ['gpt-4o', 'embed', 'dead', 'slow']) {
    assert.ok(e.message.includes(name), `valid name ${name} listed in: ${e.message}`);
  }
  // Through the SDK on /v1.
  await assert.rejects(oa().chat.completions.create(chatBody('no-such-model')), (err) => {
    assert.ok(err instanceof OpenAI.BadRequestError, `BadRequestError expected, got ${err}`);
    assert.equal(err.status, 400);
    assert.equal(err.param, 'model');
    assert.match(err.message, /Invalid model name passed in model=no-such-model/);
    return true;
  });
  // Embeddings route too.
  const emb = await post(`${gw.url}/v1/embeddings`, { model: 'no-such-model', input: 'x' });
  const ee = assertEnvelope(assert, emb, 400);
  assert.equal(ee.param, 'model');
  assert.match(ee.message, /Invalid model name passed in model=no-such-model/);
  assert.equal((await mock.stats()).total, 0);
});

test('body over max_request_size_mb → 413 in the envelope', async () => {
  const big = 'x'.repeat(2 * 1024 * 1024);
  const r = await post(chatUrl(), chatBody('gpt-4o', { messages: [{ role: 'user', content: big }] }));
  const e = assertEnvelope(assert, r, 413);
  assert.equal(e.type, 'invalid_request_error');
  await assert.rejects(
    oa().chat.completions.create(chatBody('gpt-4o', { messages: [{ role: 'user', content: big }] })),
    (err) => err instanceof OpenAI.APIError && err.status === 413);
  // Just under the limit still works.
  const ok = await post(chatUrl(), chatBody('gpt-4o', { messages: [{ role: 'user', content: 'y'.repeat(900 * 1024) }] }));
  assert.equal(ok.status, 200, ok.text.slice(0, 300));
  assert.equal((await mock.stats()).total, 1);
});

test('client-side api_base / api_key in the body → 400', async () => {
  for (const [field, body] of [
    ['api_base', chatBody('gpt-4o', { api_base: 'http://evil.example/v1' })],
    ['api_key', chatBody('gpt-4o', { api_key: 'sk-client-supplied' })],
    ['base_url', chatBody('gpt-4o', { base_url: 'http://evil.example/v1' })],
    ['api_base', chatBody('gpt-4o', { extra_body: { api_base: 'http://evil.example/v1' } })],
  ]) {
    const r = await post(chatUrl(), body);
    const e = assertEnvelope(assert, r, 400);
    assert.equal(e.type, 'invalid_request_error');
    assert.ok(e.message.startsWith(`Rejected client-side parameter: ${field}`), `message: ${e.message}`);
  }
  assert.equal((await mock.stats()).total, 0, 'nothing reaches the upstream');
});

test('upstream 429 → 429 with retry-after and rate_limit_error', async () => {
  const r = await post(chatUrl(), chatBody('gpt-4o', { mock: { status: 429, retry_after: 7 } }));
  const e = assertEnvelope(assert, r, 429);
  assert.equal(e.type, 'rate_limit_error');
  assert.match(e.message, /^litellm\.RateLimitError: /);
  assert.equal(r.headers.get('retry-after'), '7');
  assert.ok(r.headers.get('x-litellm-call-id'), 'call id on errors');
  await assert.rejects(
    oa().chat.completions.create(chatBody('gpt-4o', { mock: { status: 429, retry_after: 3 } })),
    (err) => err instanceof OpenAI.RateLimitError && err.status === 429);
  assert.equal((await mock.stats()).total, 2, 'no retries with num_retries: 0');
});

test('upstream 400 context_length_exceeded → 400 ContextWindowExceededError', async () => {
  const r = await post(chatUrl(), chatBody('gpt-4o', { mock: { error: 'context_length_exceeded' } }));
  const e = assertEnvelope(assert, r, 400);
  assert.equal(e.type, 'invalid_request_error');
  assert.match(e.message, /ContextWindowExceededError/);
  await assert.rejects(
    oa().chat.completions.create(chatBody('gpt-4o', { mock: { error: 'context_length_exceeded' } })),
    (err) => err instanceof OpenAI.BadRequestError && /ContextWindowExceededError/.test(err.message));
});

test('upstream 401 → 401', async () => {
  const r = await post(chatUrl(), chatBody('gpt-4o', { mock: { status: 401 } }));
  const e = assertEnvelope(assert, r, 401);
  assert.match(e.message, /^litellm\.AuthenticationError: /);
  assert.ok(!e.message.includes('sk-upstream-e1'), 'upstream key not echoed');
});

test('upstream 500 → 500', async () => {
  const r = await post(chatUrl(), chatBody('gpt-4o', { mock: { status: 500, message: 'boom from upstream' } }));
  const e = assertEnvelope(assert, r, 500);
  assert.match(e.message, /^litellm\.InternalServerError: /);
  assert.match(e.message, /boom from upstream/, 'the provider message is kept');
  await assert.rejects(
    oa().chat.completions.create(chatBody('gpt-4o', { mock: { status: 500 } })),
    (err) => err instanceof OpenAI.InternalServerError && err.status === 500);
});

test('upstream 503 → 503, upstream 502 → 503', async () => {
  const r = await post(chatUrl(), chatBody('gpt-4o', { mock: { status: 503 } }));
  assertEnvelope(assert, r, 503);
  const r2 = await post(chatUrl(), chatBody('gpt-4o', { mock: { status: 502 } }));
  assertEnvelope(assert, r2, 503);
});

test('upstream connection refused → 500 APIConnectionError', async () => {
  const r = await post(chatUrl(), chatBody('dead'));
  const e = assertEnvelope(assert, r, 500);
  assert.match(e.message, /APIConnectionError/);
  assert.ok(!e.message.includes('sk-upstream-dead'));
});

test('upstream timeout (deployment timeout: 0.5) → 408 with x-litellm-timeout: 0.5', async () => {
  const t0 = performance.now();
  const r = await post(`${gw.url}/v1/chat/completions`, chatBody('slow', { mock: { delay_ms: 3000 } }));
  const elapsed = performance.now() - t0;
  const e = assertEnvelope(assert, r, 408);
  assert.equal(e.type, 'timeout_error');
  assert.match(e.message, /^litellm\.Timeout: /);
  assert.equal(r.headers.get('x-litellm-timeout'), '0.5');
  assert.ok(elapsed < 2500, `answered after ${elapsed.toFixed(0)} ms; the 0.5 s timeout was not enforced`);
});

test('request body "timeout" field is enforced', async () => {
  const t0 = performance.now();
  const r = await post(chatUrl(), chatBody('gpt-4o', { timeout: 1, mock: { delay_ms: 4000 } }));
  const elapsed = performance.now() - t0;
  const e = assertEnvelope(assert, r, 408);
  assert.equal(e.type, 'timeout_error');
  assert.equal(r.headers.get('x-litellm-timeout'), '1.0');
  assert.ok(elapsed < 3000, `answered after ${elapsed.toFixed(0)} ms`);
  // A generous timeout does not get in the way.
  const ok = await post(chatUrl(), chatBody('gpt-4o', { timeout: 10, mock: { delay_ms: 200 } }));
  assert.equal(ok.status, 200, ok.text);
});

test('unknown path → 404, wrong method → 405, both in the envelope', async () => {
  assertEnvelope(assert, await get(`${gw.url}/v1/no-such-route`), 404);
  assertEnvelope(assert, await post(`${gw.url}/v1/no-such-route`, {}), 404);
  assertEnvelope(assert, await get(`${gw.url}/v1/chat/completions`), 405);
  assertEnvelope(assert, await get(`${gw.url}/chat/completions`), 405);
  assertEnvelope(assert, await post(`${gw.url}/v1/models`, {}), 405);
});
