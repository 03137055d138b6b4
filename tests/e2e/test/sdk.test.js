// The official openai npm client against the gateway: chat (stream and not), completions,
// embeddings, model listing, model-name rewriting, upstream credentials, load balancing.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Mock, Gateway, MASTER_KEY } from '../lib/harness.js';
import { client, MOCK_DEFAULT_CONTENT } from '../lib/util.js';

let mock;
let gw;

const UPSTREAM_KEY = 'sk-upstream-secret-d1-0123456789';

before(async () => {
  mock = await Mock.start();
  gw = await Gateway.start(`
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o-2024-08-06, api_base: ${mock.base('d1')}, api_key: ${UPSTREAM_KEY}}
  - model_name: embed-small
    litellm_params: {model: openai/text-embedding-3-small, api_base: ${mock.base('emb')}, api_key: sk-upstream-emb}
  - model_name: instruct
    litellm_params: {model: openai/gpt-3.5-turbo-instruct, api_base: ${mock.base('ins')}, api_key: sk-upstream-ins}
  - model_name: pool
    litellm_params: {model: openai/pool-a-model, api_base: ${mock.base('pa')}, api_key: sk-upstream-pa}
  - model_name: pool
    litellm_params: {model: openai/pool-b-model, api_base: ${mock.base('pb')}, api_key: sk-upstream-pb}
general_settings:
  master_key: ${MASTER_KEY}
`);
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
});

beforeEach(async () => { await mock.reset(); });

const BASES = [['/v1', () => `${gw.url}/v1`], ['no /v1', () => gw.url]];

for (const [label, base] of BASES) {
  test(`chat.completions.create non-stream (baseURL ${label})`, async () => {
    const oa = client(base());
    const { data, response } = await oa.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Say hello' }] })
      .withResponse();
    assert.equal(response.status, 200);
    assert.equal(data.object, 'chat.completion');
    assert.equal(data.model, 'gpt-4o', 'response model is the name the client sent');
    assert.match(data.id, /^chatcmpl-mock-\d+$/, 'the provider id is passed through');
    assert.equal(data.system_fingerprint, 'fp_mock', 'other fields passed through unchanged');
    assert.equal(data.choices.length, 1);
    assert.equal(data.choices[0].message.role, 'assistant');
    assert.equal(data.choices[0].message.content, MOCK_DEFAULT_CONTENT);
    assert.equal(data.choices[0].finish_reason, 'stop');
    assert.ok(data.usage, 'usage present');
    assert.equal(typeof data.usage.prompt_tokens, 'number');
    assert.equal(typeof data.usage.completion_tokens, 'number');
    assert.equal(data.usage.total_tokens, data.usage.prompt_tokens + data.usage.completion_tokens);
    const reqs = await mock.requests('d1');
    assert.equal(reqs.length, 1, 'exactly one upstream call');
    assert.match(reqs[0].path, /\/d1\/v1\/chat\/completions$/);
  });
}

test('gateway response headers on a non-stream call', async () => {
  const oa = client(`${gw.url}/v1`);
  const { response } = await oa.chat.completions
    .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
    .withResponse();
  const h = response.headers;
  assert.match(h.get('x-litellm-call-id') || '', /^[A-Za-z0-9._:-]{8,128}$/, 'x-litellm-call-id');
  assert.ok(h.get('x-litellm-model-id'), 'x-litellm-model-id');
  assert.equal(h.get('x-litellm-model-group'), 'gpt-4o');
  assert.equal(h.get('x-litellm-model-api-base'), mock.base('d1'));
  assert.ok(h.get('x-litellm-version'), 'x-litellm-version');
  assert.match(h.get('x-litellm-response-duration-ms') || '', /^\d+(\.\d+)?$/);
  assert.equal(h.get('x-litellm-attempted-retries'), '0');
  assert.match(h.get('llm_provider-x-request-id') || '', /^mock-\d+$/, 'allow-listed provider header');
  assert.equal(h.get('llm_provider-openai-processing-ms'), '1');
  assert.equal(h.get('set-cookie'), null, 'upstream set-cookie must not be forwarded');
  assert.equal(h.get('llm_provider-set-cookie'), null);
  // Two calls get two different call ids.
  const { response: r2 } = await oa.chat.completions
    .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
    .withResponse();
  assert.notEqual(r2.headers.get('x-litellm-call-id'), h.get('x-litellm-call-id'));
});

for (const [label, base] of BASES) {
  test(`chat.completions.create stream with include_usage (baseURL ${label})`, async () => {
    const oa = client(base());
    const { data: stream, response } = await oa.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    }).withResponse();
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') || '', /^text\/event-stream/);
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    assert.ok(chunks.length >= 3, `several chunks expected, got ${chunks.length}`);
    for (const c of chunks) {
      assert.equal(c.model, 'gpt-4o', 'every chunk carries the client model name');
      assert.equal(c.object, 'chat.completion.chunk');
      assert.equal(c.id, chunks[0].id, 'same id on every chunk');
      assert.match(c.id, /^chatcmpl-mock-\d+$/, 'the provider id is passed through');
      assert.equal(c.created, chunks[0].created, 'same created on every chunk');
    }
    const text = chunks.flatMap((c) => c.choices.map((ch) => ch.delta?.content ?? '')).join('');
    assert.equal(text, MOCK_DEFAULT_CONTENT);
    const last = chunks[chunks.length - 1];
    assert.deepEqual(last.choices, [], 'final usage chunk has no choices');
    assert.ok(last.usage, 'final chunk carries usage');
    assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + last.usage.completion_tokens);
    assert.ok(chunks.some((c) => c.choices[0]?.finish_reason === 'stop'), 'a finish chunk');
    const firstContent = chunks.find((c) => c.choices[0]?.delta?.content);
    assert.equal(chunks.find((c) => c.choices[0]?.delta?.role)?.choices[0].delta.role, 'assistant');
    assert.ok(firstContent);
    const reqs = await mock.requests('d1');
    assert.equal(reqs.length, 1);
    assert.equal(reqs[0].body_json.stream, true);
    assert.deepEqual(reqs[0].body_json.stream_options, { include_usage: true });
  });
}

test('stream without include_usage has no usage chunk', async () => {
  const oa = client(`${gw.url}/v1`);
  const stream = await oa.chat.completions.create({
    model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true,
  });
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  assert.ok(chunks.length >= 2);
  assert.ok(chunks.every((c) => !c.usage), 'no usage without include_usage');
  assert.ok(chunks.every((c) => c.choices.length === 1));
});

test('completions.create (legacy text completion)', async () => {
  for (const base of [`${gw.url}/v1`, gw.url]) {
    const oa = client(base);
    const r = await oa.completions.create({ model: 'instruct', prompt: 'Say hello', max_tokens: 16 });
    assert.equal(r.object, 'text_completion');
    assert.equal(r.model, 'instruct', 'response model is the name the client sent');
    assert.equal(r.choices.length, 1);
    assert.equal(r.choices[0].text, MOCK_DEFAULT_CONTENT);
    assert.ok(r.usage && typeof r.usage.total_tokens === 'number', 'usage present');
  }
  const reqs = await mock.requests('ins');
  assert.equal(reqs.length, 2);
  assert.equal(reqs[0].body_json.model, 'gpt-3.5-turbo-instruct', 'upstream model rewritten');
  assert.equal(reqs[0].headers.authorization, 'Bearer sk-upstream-ins');
});

test('completions.create on a chat model goes through /chat/completions (api.md 4.1)', async () => {
  const oa = client(`${gw.url}/v1`);
  const r = await oa.completions.create({ model: 'gpt-4o', prompt: 'Say hello', max_tokens: 16 });
  assert.equal(r.object, 'text_completion');
  assert.equal(r.model, 'gpt-4o');
  assert.equal(r.choices[0].text, MOCK_DEFAULT_CONTENT);
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.ok(r.usage && r.usage.total_tokens > 0);
  const stream = await oa.completions.create({ model: 'gpt-4o', prompt: 'Say hello', stream: true });
  let text = '';
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'text_completion');
    assert.equal(chunk.model, 'gpt-4o');
    text += chunk.choices[0]?.text ?? '';
  }
  assert.equal(text, MOCK_DEFAULT_CONTENT);
  const reqs = await mock.requests('d1');
  assert.equal(reqs.length, 2);
  for (const req of reqs) {
    assert.equal(req.path, '/d1/v1/chat/completions');
    assert.deepEqual(req.body_json.messages, [{ role: 'user', content: 'Say hello' }]);
    assert.equal(req.body_json.prompt, undefined);
  }
  await assert.rejects(
    oa.completions.create({ model: 'gpt-4o', prompt: ['a', 'b'] }),
    (e) => e.status === 400 && /prompt/.test(e.message));
});

test('embeddings.create (SDK default base64 and explicit float)', async () => {
  const oa = client(`${gw.url}/v1`);
  const r = await oa.embeddings.create({ model: 'embed-small', input: ['one', 'two', 'three'] });
  assert.equal(r.object, 'list');
  assert.equal(r.model, 'embed-small', 'response model is the name the client sent');
  assert.equal(r.data.length, 3);
  r.data.forEach((d, i) => {
    assert.equal(d.object, 'embedding');
    assert.equal(d.index, i);
    assert.equal(d.embedding.length, 8);
    assert.ok(d.embedding.every((x) => typeof x === 'number' && Number.isFinite(x)));
  });
  assert.ok(r.usage && typeof r.usage.prompt_tokens === 'number');
  const f = await oa.embeddings.create({ model: 'embed-small', input: 'one', encoding_format: 'float' });
  assert.equal(f.data.length, 1);
  assert.equal(f.data[0].embedding.length, 8);
  assert.deepEqual(f.data[0].embedding, r.data[0].embedding, 'same vector for the same input');
  const reqs = await mock.requests('emb');
  assert.equal(reqs.length, 2);
  assert.match(reqs[0].path, /\/emb\/v1\/embeddings$/);
  assert.equal(reqs[0].body_json.model, 'text-embedding-3-small');
  assert.equal(reqs[0].body_json.encoding_format, 'base64', 'encoding_format passed through');
  assert.deepEqual(reqs[0].body_json.input, ['one', 'two', 'three']);
});

test('models.list returns the sorted model group names', async () => {
  for (const base of [`${gw.url}/v1`, gw.url]) {
    const oa = client(base);
    const ids = [];
    for await (const m of oa.models.list()) {
      assert.equal(m.object, 'model');
      assert.equal(m.owned_by, 'openai');
      assert.equal(typeof m.created, 'number');
      ids.push(m.id);
    }
    assert.deepEqual(ids, ['embed-small', 'gpt-4o', 'instruct', 'pool'], 'one entry per group, sorted');
  }
  assert.equal((await mock.stats()).total, 0, 'listing models does not call the upstream');
});

test('model rewriting, upstream credentials and gateway-only fields', async () => {
  const oa = client(`${gw.url}/v1`);
  const r = await oa.chat.completions.create({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'hi' }],
    temperature: 0.3,
    max_tokens: 50,
    user: 'end-user-1',
    metadata: { tags: ['a', 'b'], trace_id: 't-1' },
    tags: ['c'],
    num_retries: 0,
    timeout: 30,
    caching: false,
    mock: { content: 'rewritten ok' },
  });
  assert.equal(r.model, 'gpt-4o');
  assert.equal(r.choices[0].message.content, 'rewritten ok', 'the body "mock" field reaches the upstream');
  const reqs = await mock.requests('d1');
  assert.equal(reqs.length, 1);
  const up = reqs[0];
  assert.equal(up.method, 'POST');
  assert.equal(up.body_json.model, 'gpt-4o-2024-08-06', 'upstream sees the deployment model without provider prefix');
  assert.equal(up.headers.authorization, `Bearer ${UPSTREAM_KEY}`, 'deployment api_key, not the client key');
  for (const [name, value] of Object.entries(up.headers)) {
    assert.ok(!String(value).includes(MASTER_KEY), `client key leaked upstream in header ${name}`);
  }
  assert.ok(!up.body.includes(MASTER_KEY), 'client key leaked upstream in the body');
  assert.equal(up.body_json.temperature, 0.3);
  assert.equal(up.body_json.max_tokens, 50);
  assert.equal(up.body_json.user, 'end-user-1');
  assert.deepEqual(up.body_json.messages, [{ role: 'user', content: 'hi' }]);
  for (const f of ['metadata', 'tags', 'num_retries', 'timeout', 'caching', 'mock_response']) {
    assert.ok(!(f in up.body_json), `gateway-only field "${f}" must not be forwarded; upstream body: ${up.body}`);
  }
});

test('mock_response answers without calling the upstream', async () => {
  const oa = client(`${gw.url}/v1`);
  const r = await oa.chat.completions.create({
    model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], mock_response: 'canned reply',
  });
  assert.equal(r.model, 'gpt-4o');
  assert.equal(r.choices[0].message.content, 'canned reply');
  assert.deepEqual(
    { p: r.usage.prompt_tokens, c: r.usage.completion_tokens, t: r.usage.total_tokens },
    { p: 10, c: 20, t: 30 });
  assert.equal((await mock.stats()).total, 0, 'no upstream call for mock_response');
});

test('two deployments in one group both get traffic', async () => {
  const oa = client(`${gw.url}/v1`);
  const ids = new Map();
  const N = 40;
  for (let i = 0; i < N; i++) {
    const { data, response } = await oa.chat.completions
      .create({ model: 'pool', messages: [{ role: 'user', content: `hi ${i}` }] })
      .withResponse();
    assert.equal(data.model, 'pool');
    const id = response.headers.get('x-litellm-model-id');
    const apiBase = response.headers.get('x-litellm-model-api-base');
    assert.ok(id, 'x-litellm-model-id');
    assert.ok([mock.base('pa'), mock.base('pb')].includes(apiBase), `api base header ${apiBase}`);
    ids.set(id, (ids.get(id) || 0) + 1);
  }
  assert.equal(ids.size, 2, `both deployments should be used: ${JSON.stringify([...ids])}`);
  const stats = await mock.stats();
  assert.ok(stats.by_tag.pa > 0 && stats.by_tag.pb > 0, `mock by_tag: ${JSON.stringify(stats.by_tag)}`);
  assert.equal(stats.by_tag.pa + stats.by_tag.pb, N);
  const pa = await mock.requests('pa');
  const pb = await mock.requests('pb');
  assert.ok(pa.every((r) => r.body_json.model === 'pool-a-model' && r.headers.authorization === 'Bearer sk-upstream-pa'));
  assert.ok(pb.every((r) => r.body_json.model === 'pool-b-model' && r.headers.authorization === 'Bearer sk-upstream-pb'));
});
