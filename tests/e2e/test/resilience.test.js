// Router resilience fault matrix (issue 5, router.md §2-§8): retries, cooldowns with the half-open
// probe, fallbacks (config, context-window, content-policy, per-request), timeouts, broken
// streams, and the distribution of the routing strategies. Every row asserts what the client
// received (status, body, x-litellm-* headers) and what the mock upstream received.
//
// Each row uses its own model group(s) and mock tag(s), so cooldown state and SWRR state of one
// row never leak into another; the mock is reset before every test.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Mock, Gateway, MASTER_KEY } from '../lib/harness.js';
import {
  client, chatBody, post, get, streamRaw, parseData, assertEnvelope, MOCK_DEFAULT_CONTENT,
} from '../lib/util.js';

let mock;
let gw;

// One model_list entry: group `name`, mock tag `tag`, model_info.id = id(tag) (so
// x-litellm-model-id names the tag that answered). The id must differ from every group name: a
// requested model equal to a deployment id pins that deployment (router.md §1), bypassing the
// group's selection. `params` are extra litellm_params (YAML flow map body).
const id = (tag) => `dep-${tag}`;
function dep(name, tag, params = '') {
  return `  - model_name: ${name}
    litellm_params: {model: openai/gpt-4o, api_base: ${mock.base(tag)}, api_key: sk-up-${tag}${params ? `, ${params}` : ''}}
    model_info: {id: ${id(tag)}}
`;
}

const chatUrl = (g = gw) => `${g.url}/v1/chat/completions`;
const sdk = (g = gw) => client(`${g.url}/v1`);
const chat = (model, extra = {}, g = gw, opts = {}) => post(chatUrl(g), chatBody(model, extra), opts);
const hdr = (res, name) => res.headers.get(name);
// The mock tag of the deployment that answered, from x-litellm-model-id.
const tagOf = (res) => (res.headers.get('x-litellm-model-id') || '').replace(/^dep-/, '');
const script = (tag, directives, times = 1) => mock.script({ tag, times, directives });
const count = async (tag) => (await mock.requests(tag)).length;

// Polls `fn` until it returns a truthy value (bounded); returns that value.
async function until(fn, what, timeoutMs = 5000, everyMs = 25) {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (performance.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function healthEntry(g, tag) {
  const modelId = id(tag);
  const h = await get(`${g.url}/health`);
  assert.equal(h.status, 200, h.text);
  const healthy = h.json.healthy_endpoints.find((e) => e.model_id === modelId);
  const unhealthy = h.json.unhealthy_endpoints.find((e) => e.model_id === modelId);
  return { healthy, unhealthy, json: h.json };
}

// The access-log line of the request whose x-litellm-call-id is `callId`.
function accessLog(g, callId) {
  return g.waitForLog((_, j) => j && j.call_id === callId && 'attempts' in j, 3000).then(JSON.parse);
}

// A successful, complete stream: content, a finish chunk, exactly one [DONE] at the end.
function assertCleanStream(s, what) {
  assert.equal(s.status, 200, `${what}: status; raw:\n${s.raw}`);
  assert.equal(s.error, undefined, `${what}: no transport error`);
  const datas = s.events.map((e) => e.data);
  assert.equal(datas[datas.length - 1], '[DONE]', `${what}: ends with [DONE]; raw:\n${s.raw}`);
  assert.equal(datas.filter((d) => d === '[DONE]').length, 1);
  const chunks = datas.slice(0, -1).map((d) => JSON.parse(d));
  assert.ok(chunks.every((c) => !c.error), `${what}: no error event; raw:\n${s.raw}`);
  const text = chunks.map((c) => c.choices?.[0]?.delta?.content || '').join('');
  assert.equal(text, MOCK_DEFAULT_CONTENT, `${what}: the whole answer`);
  assert.ok(chunks.some((c) => c.choices?.[0]?.finish_reason === 'stop'), `${what}: finish chunk`);
}

// A stream that had started and then broke: some content, then exactly one terminal
// data: {"error":...} event, never [DONE] (README D18).
function assertBrokenStream(s, what, { partial = true } = {}) {
  assert.equal(s.status, 200, `${what}: the stream had started; raw:\n${s.raw}`);
  assert.match(s.headers.get('content-type') || '', /^text\/event-stream/);
  const datas = s.events.map((e) => e.data);
  assert.ok(!datas.includes('[DONE]'), `${what}: no [DONE]; raw:\n${s.raw}`);
  assert.ok(s.events.length >= 1, `${what}: events; raw:\n${s.raw}`);
  const last = parseData(s.events[s.events.length - 1]);
  assert.ok(last && last.error, `${what}: the last event is data: {"error":...}; raw:\n${s.raw}`);
  assert.equal(typeof last.error.message, 'string');
  assert.equal(s.events.filter((e) => parseData(e)?.error).length, 1, `${what}: one error event`);
  const text = s.events.slice(0, -1).map((e) => parseData(e)?.choices?.[0]?.delta?.content || '').join('');
  if (partial) {
    assert.ok(text.length > 0, `${what}: partial content before the error; raw:\n${s.raw}`);
    assert.ok(MOCK_DEFAULT_CONTENT.startsWith(text) && text !== MOCK_DEFAULT_CONTENT,
      `${what}: a strict prefix of the answer, got ${JSON.stringify(text)}`);
  }
  return last.error;
}

before(async () => {
  mock = await Mock.start();
  gw = await Gateway.start(`
model_list:
${dep('r01', 'r01')}
${dep('r02', 'r02')}
${dep('r03', 'r03a')}${dep('r03', 'r03b')}
${dep('r04', 'r04a')}${dep('r04', 'r04b')}
${dep('r05', 'r05a')}${dep('r05', 'r05b')}
${dep('r06', 'r06a', 'timeout: 0.5')}${dep('r06', 'r06b', 'timeout: 0.5')}
${dep('r07', 'r07a', 'stream_timeout: 0.5')}${dep('r07', 'r07b', 'stream_timeout: 0.5')}
${dep('r08', 'r08a')}${dep('r08', 'r08b')}
${dep('r09', 'r09a', 'timeout: 0.5')}${dep('r09', 'r09b', 'timeout: 0.5')}
${dep('r10', 'r10a')}${dep('r10', 'r10b')}
${dep('r11', 'r11a')}${dep('r11', 'r11b')}
${dep('r12', 'r12a')}${dep('r12', 'r12b')}
${dep('cw', 'cw')}
${dep('cw-big', 'cwbig')}
${dep('cw-nofb', 'cwn')}
${dep('cp', 'cp')}
${dep('cp-safe', 'cpsafe')}
${dep('cp-nofb', 'cpn')}
${dep('fbp', 'fbp', 'num_retries: 1')}
${dep('fbr', 'fbr')}
${dep('pr', 'pr')}
${dep('pr-other', 'pro')}
${dep('to', 'to', 'timeout: 0.3')}
router_settings:
  num_retries: 2
  fallbacks: [{fbp: [fbr]}]
  context_window_fallbacks: [{cw: [cw-big]}]
  content_policy_fallbacks: [{cp: [cp-safe]}]
general_settings:
  master_key: ${MASTER_KEY}
`);
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
});

beforeEach(async () => { await mock.reset(); });

// --- retries and cooldowns ----------------------------------------------------------------------

test('row 1: 429 with Retry-After once on a single deployment → wait, half-open probe, 200', async () => {
  await script('r01', { status: 429, retry_after: '1' });
  const t0 = performance.now();
  const { data, response } = await sdk().chat.completions.create(chatBody('r01')).withResponse();
  const took = performance.now() - t0;
  assert.equal(data.choices[0].message.content, MOCK_DEFAULT_CONTENT);
  assert.equal(data.model, 'r01', 'response model is the name the client sent');
  assert.equal(response.headers.get('x-litellm-attempted-retries'), '1');
  assert.equal(tagOf(response), 'r01');
  assert.ok(took >= 950, `the gateway waited the Retry-After (took ${took.toFixed(0)} ms)`);
  const reqs = await mock.requests('r01');
  assert.equal(reqs.length, 2, 'the failed attempt and the probe');
  const gap = reqs[1].received_at_ms - reqs[0].received_at_ms;
  assert.ok(gap >= 950, `retry came ${gap} ms after the 429`);
});

test('row 2: 429 persistent on a single deployment → 429 after 1+num_retries attempts, then fail fast (LiteLLM #40405)', async () => {
  await script('r02', { status: 429, retry_after: '1' }, 20);
  const r1 = await chat('r02');
  assertEnvelope(assert, r1, 429);
  assert.ok(hdr(r1, 'retry-after'), `429 carries retry-after; headers: ${[...r1.headers]}`);
  assert.equal(hdr(r1, 'x-litellm-attempted-retries'), '2');
  assert.equal(await count('r02'), 3, '1 + num_retries(2) attempts');

  const r2 = await chat('r02');
  const e = assertEnvelope(assert, r2, 429);
  assert.ok(e.message.startsWith('No deployments available for selected model'), e.message);
  assert.match(e.message, /Passed model=r02/);
  assert.match(hdr(r2, 'retry-after') || '', /^[1-9]\d*$/, 'retry-after in whole seconds ≥ 1');
  assert.equal(await count('r02'), 3, 'the cooling single deployment got no new request');
});

test('row 3 + 17: 500 once in a 2-deployment group → other deployment, no wait; access log accounts to it', async () => {
  await mock.script({ times: 1, directives: { status: 500 } }); // untagged: whichever goes first
  const t0 = performance.now();
  const r = await chat('r03');
  const took = performance.now() - t0;
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.choices[0].message.content, MOCK_DEFAULT_CONTENT);
  assert.equal(hdr(r, 'x-litellm-attempted-retries'), '1');
  assert.equal(hdr(r, 'x-litellm-attempted-fallbacks'), '0');
  assert.equal(hdr(r, 'x-litellm-model-group'), 'r03');
  const a = await count('r03a');
  const b = await count('r03b');
  assert.deepEqual([a, b], [1, 1], 'one attempt on each deployment');
  assert.ok(took < 350, `an untried deployment is retried without backoff (took ${took.toFixed(0)} ms)`);
  // The deployment that answered is the one that did not get the 500 (the first attempt).
  const first = (await mock.requests()).sort((x, y) => x.seq - y.seq)[0].tag;
  const answered = first === 'r03a' ? 'r03b' : 'r03a';
  assert.equal(tagOf(r), answered);

  // Row 17: the access log line accounts the request to the deployment that answered.
  const log = await accessLog(gw, hdr(r, 'x-litellm-call-id'));
  assert.equal(log.status, 200);
  assert.equal(log.model_id, id(answered));
  assert.equal(log.model_group, 'r03');
  assert.equal(log.attempts, 2);
  assert.ok(log.completion_tokens > 0, 'usage of the answering attempt recorded');
});

test('row 4: 503 persistent on A → every request answered by B; A cooled after 5 attempts; /health shows it', async () => {
  await script('r04a', { status: 503 }, 100);
  for (let i = 0; i < 12; i++) {
    const r = await chat('r04');
    assert.equal(r.status, 200, `request ${i}: ${r.text}`);
    assert.equal(tagOf(r), 'r04b', `request ${i} answered by B`);
  }
  assert.equal(await count('r04a'), 5, 'A: ≥5 attempts with >50 % failures → cooldown, then nothing');
  assert.equal(await count('r04b'), 12);
  const { healthy, unhealthy } = await healthEntry(gw, 'r04a');
  assert.ok(unhealthy, `A listed under unhealthy_endpoints (healthy entry: ${JSON.stringify(healthy)})`);
  assert.equal(unhealthy.state, 'cooling_down');
  assert.equal(unhealthy.model_name, 'r04');
  assert.ok(unhealthy.cooldown_remaining_s > 0);
  assert.equal(unhealthy.last_status, 503);
  assert.ok((await healthEntry(gw, 'r04b')).healthy, 'B is healthy');
  // While A cools, it still gets nothing.
  const r = await chat('r04');
  assert.equal(hdr(r, 'x-litellm-attempted-retries'), '0');
  assert.equal(await count('r04a'), 5);
});

test('row 5: TCP reset → retried on the other deployment → 200', async () => {
  // Two resets: the upstream pool resends a request once, to the same deployment, when a *reused*
  // keep-alive connection fails before any response byte (it cannot tell that from an idle
  // connection the server closed); the second reset, on a fresh connection, is a real failure.
  // When the first attempt already ran on a fresh connection, one reset is enough and the second
  // entry is left unused.
  await script('r05a', { reset: true }, 2);
  const { data, response } = await sdk().chat.completions.create(chatBody('r05')).withResponse();
  assert.equal(data.choices[0].message.content, MOCK_DEFAULT_CONTENT);
  assert.equal(response.headers.get('x-litellm-attempted-retries'), '1');
  assert.equal(tagOf(response), 'r05b');
  const a = await count('r05a');
  assert.ok(a === 1 || a === 2, `A got ${a} requests`);
  assert.equal(await count('r05b'), 1);
});

test('row 6: no response (hang) with timeout 0.5 → attempt times out, retry elsewhere → 200', async () => {
  await script('r06a', { hang: true });
  const t0 = performance.now();
  const { data, response } = await sdk().chat.completions.create(chatBody('r06')).withResponse();
  const took = performance.now() - t0;
  assert.equal(data.choices[0].message.content, MOCK_DEFAULT_CONTENT);
  assert.equal(response.headers.get('x-litellm-attempted-retries'), '1');
  assert.equal(tagOf(response), 'r06b');
  assert.ok(took >= 450 && took < 2000, `one 0.5 s timeout, then the answer (took ${took.toFixed(0)} ms)`);
  assert.equal(await count('r06a'), 1);
  assert.equal(await count('r06b'), 1);
});

test('row 19: timeout 0.3 against a 1.5 s upstream → 408, x-litellm-timeout: 0.3, exactly 3 attempts', async () => {
  await script('to', { delay_ms: 1500 }, 3);
  const t0 = performance.now();
  const r = await chat('to');
  const took = performance.now() - t0;
  const e = assertEnvelope(assert, r, 408);
  assert.equal(hdr(r, 'x-litellm-timeout'), '0.3');
  assert.equal(hdr(r, 'x-litellm-attempted-retries'), '2');
  assert.match(e.message, /timeout|timed out/i);
  assert.equal(await count('to'), 3, '1 + num_retries attempts');
  assert.ok(took >= 900 && took < 1500 * 3, `3 × 0.3 s plus backoff (took ${took.toFixed(0)} ms)`);
});

// --- streams -------------------------------------------------------------------------------------

test('row 7: slow first token (ttft 2 s, stream_timeout 0.5) → transparent failover to a clean stream', async () => {
  await script('r07a', { ttft_ms: 2000 });
  const s = await streamRaw(chatUrl(), chatBody('r07', { stream: true }));
  assertCleanStream(s, 'ttft failover');
  assert.equal(tagOf(s), 'r07b');
  assert.equal(hdr(s, 'x-litellm-attempted-retries'), '1');
  assert.ok(s.headersAt < 1800, `failed over after the 0.5 s stream_timeout (headers at ${s.headersAt.toFixed(0)} ms)`);
  assert.equal(await count('r07a'), 1);
  assert.equal(await count('r07b'), 1);
});

test('row 8: stream cut midway → partial content + SSE error event, no [DONE], no retry', async () => {
  await mock.script({ times: 5, directives: { cut_after: 3, inter_chunk_ms: 50 } });
  const s = await streamRaw(chatUrl(), chatBody('r08', { stream: true }), { fresh: true });
  assertBrokenStream(s, 'cut_after 3');
  assert.equal((await count('r08a')) + (await count('r08b')), 1, 'no retry after bytes reached the client');
});

test('row 9: stream stall (stall_after 2, timeout 0.5) → partial content + SSE error event, no [DONE]', async () => {
  await mock.script({ times: 5, directives: { stall_after: 2 } });
  const s = await streamRaw(chatUrl(), chatBody('r09', { stream: true }), { fresh: true });
  const err = assertBrokenStream(s, 'stall_after 2');
  assert.ok(s.end < 3000, `the stall was cut by the 0.5 s timeout (stream ended at ${s.end.toFixed(0)} ms)`);
  assert.match(err.message, /timeout|timed out|stall/i, err.message);
  assert.equal((await count('r09a')) + (await count('r09b')), 1);
});

test('row 10: malformed chunk → SSE error event, no [DONE]', async () => {
  await mock.script({ times: 5, directives: { malformed_after: 2, inter_chunk_ms: 50 } });
  const s = await streamRaw(chatUrl(), chatBody('r10', { stream: true }), { fresh: true });
  assertBrokenStream(s, 'malformed_after 2');
  assert.ok(!s.raw.includes('{not json'), 'the malformed bytes are not relayed');
  assert.equal((await count('r10a')) + (await count('r10b')), 1);
});

test('row 11: missing [DONE] → SSE error event, never a clean end', async () => {
  await mock.script({ times: 5, directives: { no_done: true, inter_chunk_ms: 50 } });
  const s = await streamRaw(chatUrl(), chatBody('r11', { stream: true }), { fresh: true });
  const err = assertBrokenStream(s, 'no_done', { partial: false });
  assert.match(err.message, /\[DONE\]/, err.message);
  const text = s.events.slice(0, -1).map((e) => parseData(e)?.choices?.[0]?.delta?.content || '').join('');
  assert.equal(text, MOCK_DEFAULT_CONTENT, 'the whole answer was relayed before the error event');
  assert.equal((await count('r11a')) + (await count('r11b')), 1);
});

test('row 12: stream fails before the first byte (503 once) → retry → normal stream with [DONE]', async () => {
  await script('r12a', { status: 503 });
  const s = await streamRaw(chatUrl(), chatBody('r12', { stream: true }));
  assertCleanStream(s, '503 before first byte');
  assert.equal(tagOf(s), 'r12b');
  assert.equal(hdr(s, 'x-litellm-attempted-retries'), '1');
  const chunks = s.events.slice(0, -1).map(parseData);
  assert.ok(chunks.every((c) => c.model === 'r12'), 'every chunk has the client model name');
  assert.equal(await count('r12a'), 1);
  assert.equal(await count('r12b'), 1);
});

// --- fallbacks -----------------------------------------------------------------------------------

test('row 13: context window exceeded → context_window_fallbacks answers; without an entry → 400, no retry', async () => {
  await script('cw', { error: 'context_length_exceeded' }, 5);
  const { data, response } = await sdk().chat.completions.create(chatBody('cw')).withResponse();
  assert.equal(data.choices[0].message.content, MOCK_DEFAULT_CONTENT);
  assert.equal(data.model, 'cw', 'response model is the name the client sent (README D12)');
  assert.equal(response.headers.get('x-litellm-attempted-fallbacks'), '1');
  assert.equal(response.headers.get('x-litellm-model-group'), 'cw-big');
  assert.equal(tagOf(response), 'cwbig');
  assert.equal(response.headers.get('x-litellm-attempted-retries'), '0');
  assert.equal(await count('cw'), 1, 'a context-window error is never retried');
  assert.equal(await count('cwbig'), 1);

  await script('cwn', { error: 'context_length_exceeded' }, 5);
  const r = await chat('cw-nofb');
  assertEnvelope(assert, r, 400);
  assert.equal(hdr(r, 'x-litellm-attempted-fallbacks'), '0');
  assert.equal(await count('cwn'), 1);
});

test('row 14: content policy violation → content_policy_fallbacks answers; without an entry → 400, no retry', async () => {
  await script('cp', { error: 'content_policy_violation' }, 5);
  const { data, response } = await sdk().chat.completions.create(chatBody('cp')).withResponse();
  assert.equal(data.choices[0].message.content, MOCK_DEFAULT_CONTENT);
  assert.equal(data.model, 'cp');
  assert.equal(response.headers.get('x-litellm-attempted-fallbacks'), '1');
  assert.equal(response.headers.get('x-litellm-model-group'), 'cp-safe');
  assert.equal(tagOf(response), 'cpsafe');
  assert.equal(await count('cp'), 1);
  assert.equal(await count('cpsafe'), 1);

  await script('cpn', { error: 'content_policy_violation' }, 5);
  const r = await chat('cp-nofb');
  assertEnvelope(assert, r, 400);
  assert.equal(await count('cpn'), 1);
});

test('row 15: fallback deployment rejects a parameter → the primary\'s 503 with the fallback story', async () => {
  await script('fbp', { status: 503 }, 20);
  await script('fbr', { status: 400, message: "Unsupported parameter: 'temperature' is not supported with this model." }, 20);
  const r = await chat('fbp', { temperature: 0.3 });
  const e = assertEnvelope(assert, r, 503);
  assert.match(e.message, /Received Model Group=fbp/);
  assert.match(e.message, /Available Model Group Fallbacks=/);
  assert.match(e.message, /Error doing the fallback:/);
  assert.match(e.message, /Unsupported parameter/);
  assert.equal(hdr(r, 'x-litellm-attempted-fallbacks'), '1');
  assert.equal(await count('fbp'), 2, 'primary: 1 + its deployment num_retries (1)');
  assert.equal(await count('fbr'), 1, 'a 400 from the fallback is not retried');
});

test('row 18: per-request fallbacks (names, object form with messages) and disable_fallbacks', async () => {
  const r1 = await chat('pr', { fallbacks: ['pr-other'], mock_testing_fallbacks: true });
  assert.equal(r1.status, 200, r1.text);
  assert.equal(hdr(r1, 'x-litellm-attempted-fallbacks'), '1');
  assert.equal(hdr(r1, 'x-litellm-model-group'), 'pr-other');
  assert.equal(tagOf(r1), 'pro');
  assert.equal(r1.json.model, 'pr');
  assert.equal(await count('pr'), 0, 'mock_testing_fallbacks fails the primary without calling it');
  const fwd = await mock.requests('pro');
  assert.equal(fwd.length, 1);
  for (const k of ['fallbacks', 'mock_testing_fallbacks', 'disable_fallbacks']) {
    assert.ok(!(k in fwd[0].body_json), `${k} is not forwarded upstream`);
  }

  const r2 = await chat('pr', { fallbacks: ['pr-other'], mock_testing_fallbacks: true, disable_fallbacks: true });
  const e2 = assertEnvelope(assert, r2, 500);
  assert.match(e2.message, /mock_testing_fallbacks/);
  assert.doesNotMatch(e2.message, /Available Model Group Fallbacks=\[/, 'no fallback was attempted');
  assert.equal(hdr(r2, 'x-litellm-attempted-fallbacks'), '0');
  assert.equal(await count('pro'), 1, 'no fallback call');

  const r3 = await chat('pr', {
    fallbacks: [{ model: 'pr-other', messages: [{ role: 'user', content: 'replaced' }] }],
    mock_testing_fallbacks: true,
  });
  assert.equal(r3.status, 200, r3.text);
  assert.equal(hdr(r3, 'x-litellm-model-group'), 'pr-other');
  const got = await mock.requests('pro');
  assert.equal(got.length, 2);
  assert.deepEqual(got[1].body_json.messages, [{ role: 'user', content: 'replaced' }],
    'the fallback received the replacement messages');
});

test('test hook: mock_testing_rate_limit_error fails the first attempt only, then the retry succeeds', async () => {
  // api.md §2.1: the first attempt fails with a 429 before any deployment is chosen, then the
  // normal retry runs and succeeds.
  const r1 = await chat('pr', { mock_testing_rate_limit_error: true });
  assert.equal(r1.status, 200, r1.text);
  assert.equal(hdr(r1, 'x-litellm-attempted-retries'), '1');
  assert.equal(await count('pr'), 1, 'one real upstream call');
});

test('test hook: mock_testing_context_fallbacks fails the requested group only → context_window_fallbacks', async () => {
  // The context-window hook fails only the requested group; its context_window_fallbacks answer.
  const r2 = await chat('cw', { mock_testing_context_fallbacks: true });
  assert.equal(r2.status, 200, r2.text);
  assert.equal(hdr(r2, 'x-litellm-model-group'), 'cw-big');
  assert.equal(hdr(r2, 'x-litellm-attempted-fallbacks'), '1');
  assert.equal(await count('cw'), 0);
  assert.equal(await count('cwbig'), 1);
});

// --- flapping primary (its own gateway: cooldown_time 1) ----------------------------------------

test('row 16: flapping primary → secondary while cooling, half-open probe back to the primary', async () => {
  const g = await Gateway.start(`
model_list:
${dep('flap', 'fp', 'order: 1')}${dep('flap', 'fs', 'order: 2')}
router_settings:
  cooldown_time: 1
general_settings:
  master_key: ${MASTER_KEY}
`);
  try {
    // The mock always sends a Retry-After on 429 (default "1", equal to cooldown_time here).
    await script('fp', { status: 429 });
    const r1 = await chat('flap', {}, g);
    assert.equal(r1.status, 200, r1.text);
    assert.equal(tagOf(r1), 'fs', 'answered by the secondary');
    assert.equal(hdr(r1, 'x-litellm-attempted-retries'), '1');
    const r2 = await chat('flap', {}, g);
    assert.equal(tagOf(r2), 'fs', 'primary still cooling');
    assert.equal(hdr(r2, 'x-litellm-attempted-retries'), '0');
    assert.equal(await count('fp'), 1);
    const { unhealthy } = await healthEntry(g, 'fp');
    assert.equal(unhealthy?.state, 'cooling_down');
    await until(async () => (await healthEntry(g, 'fp')).unhealthy?.state !== 'cooling_down',
      'primary leaves cooldown', 4000);
    const r3 = await chat('flap', {}, g);
    assert.equal(r3.status, 200);
    assert.equal(tagOf(r3), 'fp', 'the half-open probe goes to the primary');
    const r4 = await chat('flap', {}, g);
    assert.equal(tagOf(r4), 'fp', 'the probe succeeded: primary closed again');
    assert.equal(await count('fp'), 3);
    assert.equal(await count('fs'), 2);
    assert.ok((await healthEntry(g, 'fp')).healthy, 'primary healthy again');
  } finally {
    await g.stop();
  }
});

// --- strategies (fresh gateways) ------------------------------------------------------------------

async function strategyGateway(strategy, deps, extra = '') {
  return Gateway.start(`
model_list:
${deps}
router_settings:
  routing_strategy: ${strategy}
${extra}
general_settings:
  master_key: ${MASTER_KEY}
`);
}

function tally(ids) {
  const out = {};
  for (const id of ids) out[id] = (out[id] || 0) + 1;
  return out;
}

test('row 20: simple-shuffle weights 3:1 over 400 requests → exactly 300/100', async () => {
  const g = await strategyGateway('simple-shuffle', dep('w', 'wa', 'weight: 3') + dep('w', 'wb', 'weight: 1'));
  try {
    const ids = [];
    for (let i = 0; i < 400; i++) {
      const r = await chat('w', {}, g);
      assert.equal(r.status, 200, r.text);
      ids.push(tagOf(r));
    }
    assert.deepEqual(tally(ids), { wa: 300, wb: 100 });
    // Smooth: every window of 4 consecutive picks holds exactly one wb.
    for (let i = 0; i + 4 <= ids.length; i += 4) {
      assert.equal(ids.slice(i, i + 4).filter((x) => x === 'wb').length, 1, `picks ${i}..${i + 3}`);
    }
    const st = await mock.stats();
    assert.equal(st.by_tag.wa, 300);
    assert.equal(st.by_tag.wb, 100);
  } finally {
    await g.stop();
  }
});

test('row 21: least-busy under concurrency → the fast deployment takes most requests', async () => {
  const g = await strategyGateway('least-busy', dep('lb', 'lba') + dep('lb', 'lbb'));
  try {
    await script('lba', { delay_ms: 300 }, -1);
    // 20 requests from 4 concurrent clients pulling from one queue: while a slow request holds A,
    // the others find B less busy. (In one instantaneous burst least-busy can only balance the
    // in-flight counts, i.e. split ~evenly, since nothing has finished yet.)
    const ids = [];
    let started = 0;
    let maxInFlight = 0;
    let inFlight = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (started < 20) {
        started += 1;
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const r = await chat('lb', {}, g);
        inFlight -= 1;
        assert.equal(r.status, 200, r.text);
        ids.push(tagOf(r));
      }
    }));
    assert.equal(maxInFlight, 4, 'requests were concurrent');
    const t = tally(ids);
    assert.ok((t.lbb || 0) >= 14, `fast B got ${t.lbb}, slow A got ${t.lba}`);
    assert.ok((t.lba || 0) >= 1, 'A (idle at first) got some');
    assert.equal((await count('lba')) + (await count('lbb')), 20, 'no retries');
  } finally {
    await g.stop();
  }
});

test('row 22: latency-based-routing → ≥ 95 % of traffic on the faster deployment after warm-up', async () => {
  const g = await strategyGateway('latency-based-routing', dep('lat', 'lta') + dep('lat', 'ltb'));
  try {
    await script('lta', { delay_ms: 150 }, -1);
    for (let i = 0; i < 10; i++) {
      const r = await chat('lat', {}, g);
      assert.equal(r.status, 200, r.text);
    }
    const warm = await count('lta');
    assert.ok(warm >= 1, 'new deployments are tried during warm-up (A scored 0 at first)');
    const ids = [];
    for (let i = 0; i < 40; i++) ids.push(tagOf(await chat('lat', {}, g)));
    const t = tally(ids);
    assert.ok((t.ltb || 0) >= 38, `fast B got ${t.ltb} of 40 (slow A ${t.lta || 0})`);
    const h = await healthEntry(g, 'lta');
    const a = h.healthy || h.unhealthy;
    const b = (await healthEntry(g, 'ltb')).healthy;
    assert.ok(a.latency_median_s > b.latency_median_s, 'the router saw A as slower');
  } finally {
    await g.stop();
  }
});
