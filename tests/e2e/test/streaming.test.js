// SSE streaming through the gateway: chunk-by-chunk pass-through, [DONE], errors before and after
// the first byte, broken upstream streams, stalls, and client disconnects cancelling upstream.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { Mock, Gateway, MASTER_KEY } from '../lib/harness.js';
import { client, chatBody, streamRaw, parseData, assertEnvelope, waitStat, sameConnection } from '../lib/util.js';

let mock;
let gw;

before(async () => {
  mock = await Mock.start();
  gw = await Gateway.start(`
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: ${mock.base('s1')}, api_key: sk-upstream-s1}
  - model_name: stall
    litellm_params: {model: openai/gpt-4o, api_base: ${mock.base('s2')}, api_key: sk-upstream-s2, timeout: 1}
router_settings:
  num_retries: 0
  disable_cooldowns: true
general_settings:
  master_key: ${MASTER_KEY}
`);
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
});

beforeEach(async () => { await mock.reset(); });

const chatUrl = () => `${gw.url}/v1/chat/completions`;
const streamBody = (model, mockDirectives, extra = {}) =>
  chatBody(model, { stream: true, ...(mockDirectives ? { mock: mockDirectives } : {}), ...extra });

// The stream ended with exactly one terminal error event and no [DONE].
function assertErrorTerminated(s, what) {
  assert.equal(s.status, 200, `${what}: the stream had started`);
  const datas = s.events.map((e) => e.data);
  assert.ok(!datas.includes('[DONE]'), `${what}: no [DONE] after a broken stream; raw:\n${s.raw}`);
  assert.ok(s.events.length >= 1, `${what}: some events; raw:\n${s.raw}`);
  const last = parseData(s.events[s.events.length - 1]);
  assert.ok(last && last.error, `${what}: last event must be data: {"error":...}; raw:\n${s.raw}`);
  assert.equal(typeof last.error.message, 'string');
  assert.equal(typeof last.error.type, 'string');
  assert.match(String(last.error.code), /^\d{3}$/, `${what}: error.code is a status string`);
  const errorEvents = s.events.filter((e) => parseData(e)?.error);
  assert.equal(errorEvents.length, 1, `${what}: exactly one error event`);
  return last.error;
}

test('chunks are passed through as they arrive (not buffered)', async () => {
  const s = await streamRaw(chatUrl(), streamBody('gpt-4o', { inter_chunk_ms: 200, chunks: 5 }));
  assert.equal(s.status, 200);
  const content = s.events.filter((e) => parseData(e)?.choices?.[0]?.delta?.content);
  assert.equal(content.length, 5, `5 content chunks; raw:\n${s.raw}`);
  // 8 events (role, 5 content, finish, [DONE]) 200 ms apart: ~1.4 s in total.
  assert.ok(s.end >= 1000, `stream took ${s.end.toFixed(0)} ms`);
  assert.ok(content[0].at < s.end - 700,
    `first content chunk arrived at ${content[0].at.toFixed(0)} ms, stream ended at ${s.end.toFixed(0)} ms`);
  // Consecutive content chunks arrive roughly 200 ms apart, not in one burst.
  for (let i = 1; i < content.length; i++) {
    const gap = content[i].at - content[i - 1].at;
    assert.ok(gap >= 100, `gap between content chunks ${i - 1} and ${i}: ${gap.toFixed(0)} ms`);
  }
});

test('wire format: text/event-stream, data: lines, [DONE] preserved, gateway headers', async () => {
  const s = await streamRaw(chatUrl(), streamBody('gpt-4o', null, { stream_options: { include_usage: true } }));
  assert.equal(s.status, 200);
  assert.match(s.headers.get('content-type') || '', /^text\/event-stream/);
  assert.equal(s.headers.get('cache-control'), 'no-cache');
  assert.ok(s.headers.get('x-litellm-call-id'), 'call id header on streams');
  assert.ok(s.headers.get('x-litellm-model-id'), 'model id header on streams');
  assert.equal(s.headers.get('x-litellm-response-cost'), null, 'no cost header on streams');
  assert.ok(s.raw.endsWith('data: [DONE]\n\n'), `raw stream must end with [DONE]:\n${s.raw.slice(-200)}`);
  assert.equal(s.rest, '', 'nothing after the last event');
  for (const ev of s.events) {
    assert.match(ev.block, /^data: /, `every event is a data: line: ${JSON.stringify(ev.block)}`);
    assert.ok(!/^(event|id|retry):/m.test(ev.block), 'no event:/id: lines');
  }
  const chunks = s.events.slice(0, -1).map(parseData);
  assert.ok(chunks.every((c) => c && c.model === 'gpt-4o'), 'every chunk has the client model name');
  assert.ok(chunks.every((c) => 'usage' in c), 'include_usage: every chunk carries usage (null or final)');
  assert.ok(chunks[chunks.length - 1].usage, 'final usage chunk');
  assert.equal(s.events.filter((e) => e.data === '[DONE]').length, 1);
});

test('upstream error before the first byte → normal JSON error with its status', async () => {
  const r = await fetch(chatUrl(), {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(streamBody('gpt-4o', { status: 500 })),
  });
  const text = await r.text();
  assert.match(r.headers.get('content-type') || '', /application\/json/);
  let json = null;
  try { json = JSON.parse(text); } catch { /* keep null */ }
  assertEnvelope(assert, { status: r.status, headers: r.headers, text, json }, 500);
  const oa = client(`${gw.url}/v1`);
  await assert.rejects(async () => {
    const st = await oa.chat.completions.create(streamBody('gpt-4o', { status: 429, retry_after: 2 }));
    for await (const _ of st) { /* drain */ }
  }, (err) => err instanceof OpenAI.RateLimitError && err.status === 429);
});

test('upstream cut mid-stream → terminal error event, no [DONE]; the SDK throws', async () => {
  const s = await streamRaw(chatUrl(), streamBody('gpt-4o', { cut_after: 2 }), { fresh: true });
  assertErrorTerminated(s, 'cut_after 2');
  const firstContent = parseData(s.events[0]);
  assert.ok(firstContent && firstContent.choices, 'the events before the cut were delivered');
  const oa = client(`${gw.url}/v1`, MASTER_KEY, { defaultHeaders: { connection: 'close' } });
  const got = [];
  await assert.rejects(async () => {
    const st = await oa.chat.completions.create(streamBody('gpt-4o', { cut_after: 3 }));
    for await (const c of st) got.push(c);
  }, (err) => err instanceof OpenAI.APIError);
  assert.ok(got.length >= 1, 'chunks before the cut reached the SDK');
});

// These failures come after the first chunks; inter_chunk_ms makes those chunks reach the client
// first (in one burst the gateway sees the failure before sending anything: next test).
test('upstream stream without [DONE] → terminal error event', async () => {
  const s = await streamRaw(chatUrl(), streamBody('gpt-4o', { no_done: true, inter_chunk_ms: 30 }), { fresh: true });
  assertErrorTerminated(s, 'no_done');
});

test('malformed upstream chunk → terminal error event', async () => {
  const s = await streamRaw(chatUrl(), streamBody('gpt-4o', { malformed_after: 2, inter_chunk_ms: 30 }), { fresh: true });
  assertErrorTerminated(s, 'malformed_after 2');
  assert.ok(!s.raw.includes('{not json'), 'the malformed chunk is not passed to the client');
});

test('upstream stream_error event → passed as the terminal error event', async () => {
  const s = await streamRaw(chatUrl(), streamBody('gpt-4o', { stream_error_after: 2, inter_chunk_ms: 30 }), { fresh: true });
  assertErrorTerminated(s, 'stream_error_after 2');
});

test('a failure seen before any byte reached the client is a plain error response (README D18)', async () => {
  // The whole broken stream arrives in one burst: nothing was sent yet, so the client gets a
  // normal error status and body (and a later router may retry or fall back).
  for (const directives of [{ malformed_after: 2 }, { stream_error_after: 2 }, { no_done: true }]) {
    const r = await fetch(chatUrl(), {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(streamBody('gpt-4o', directives)),
    });
    const text = await r.text();
    if (r.status === 200) {
      // The upstream's burst was split across reads: then it must be an error-terminated stream.
      assert.ok(!text.includes('data: [DONE]') && text.includes('data: {"error":'), text);
      continue;
    }
    assert.ok(r.status >= 400, `${JSON.stringify(directives)}: ${r.status}`);
    const body = JSON.parse(text);
    assert.equal(typeof body.error.message, 'string');
    assert.ok(!text.includes('data: [DONE]'));
  }
});

test('upstream stall mid-stream with deployment timeout: 1 → error event within a few seconds', async () => {
  const s = await streamRaw(chatUrl(), streamBody('stall', { stall_after: 1 }), { fresh: true });
  assert.ok(s.end < 6000, `stream ended after ${s.end.toFixed(0)} ms`);
  const err = assertErrorTerminated(s, 'stall_after 1');
  assert.ok(s.end >= 800, `ended after ${s.end.toFixed(0)} ms, before the 1 s timeout could expire`);
  assert.ok(err.message.length > 0);
  // The gateway gave up on the upstream request.
  const st = await waitStat(mock, 'cancelled', 1, 3000);
  assert.ok(st.cancelled >= 1, `upstream stalled request cancelled: ${JSON.stringify(st)}`);
});

test('keep-alive: a connection whose response ended cleanly is not closed under the client', async () => {
  // A response that ends with a complete chunked body tells the client the connection can be
  // reused; closing it right afterwards makes the client's next request on it fail (pooled
  // clients such as undici/fetch and the openai SDK see "other side closed").
  const auth = { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' };
  const cases = [
    ['normal stream', {}],
    ['upstream 500 before the first byte', { status: 500 }],
    ['no_done', { no_done: true }],
    ['cut_after 2', { cut_after: 2 }],
    ['malformed_after 2', { malformed_after: 2 }],
  ];
  for (const [what, directives] of cases) {
    const res = await sameConnection(gw.port, [
      { method: 'POST', path: '/v1/chat/completions', headers: auth, body: streamBody('gpt-4o', directives) },
      { method: 'GET', path: '/health/liveliness' },
    ]);
    assert.ok(res[0] && !res[0].closed, `${what}: first response complete: ${JSON.stringify(res[0])}`);
    if (/close/i.test(res[0].headers.connection || '')) continue;  // announced: fine
    assert.ok(res[1] && res[1].status === 200,
      `${what}: next request on the same connection failed: ${JSON.stringify(res[1])}`);
  }
});

test('client disconnect mid-stream cancels the upstream request', async () => {
  const before = await mock.stats();
  const ac = new AbortController();
  let seen = 0;
  const s = await streamRaw(chatUrl(), streamBody('gpt-4o', { inter_chunk_ms: 300, chunks: 30 }), {
    signal: ac.signal,
    onEvent: () => { seen += 1; if (seen === 2) ac.abort(); },
  });
  assert.equal(s.status, 200);
  assert.ok(s.error, 'the client aborted the stream');
  assert.ok(!s.raw.includes('[DONE]'));
  // 30 chunks at 300 ms would take ~10 s; the cancel must reach the mock long before that.
  const st = await waitStat(mock, 'cancelled', before.cancelled + 1, 4000);
  assert.ok(st.cancelled >= before.cancelled + 1, `mock stats after the disconnect: ${JSON.stringify(st)}`);
  assert.ok(st.cancelled_streams >= 1, 'cancelled while streaming');
  const reqs = await mock.requests('s1');
  assert.equal(reqs.length, 1, 'no retry after a client disconnect');
});
