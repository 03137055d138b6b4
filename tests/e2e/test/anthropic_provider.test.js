// OpenAI format in, Anthropic deployment out (issue 4 item 1): the official openai client against
// the gateway, the mock answering in Anthropic's Messages format on /v1/messages.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Mock, Gateway, MASTER_KEY } from '../lib/harness.js';
import { client } from '../lib/util.js';
import OpenAI from 'openai';

let mock;
let gw;
const KEY = 'sk-ant-upstream-secret-0123456789';

before(async () => {
  mock = await Mock.start();
  gw = await Gateway.start(`
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-6, api_base: ${mock.url}/a1, api_key: ${KEY}}
  - model_name: claude-bare
    litellm_params: {model: claude-3-5-haiku-latest, api_base: ${mock.url}/a2/v1, api_key: ${KEY}}
router_settings:
  # provider error mapping is under test here, not retries or cooldowns
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

test('chat.completions non-stream is translated to /v1/messages and back', async () => {
  const oa = client(`${gw.url}/v1`);
  const r = await oa.chat.completions.create({
    model: 'claude',
    messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }],
    temperature: 0.2,
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, 'claude');
  assert.match(r.id, /^msg_mock_/);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.ok(r.choices[0].message.content.length > 0);
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.ok(r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0);
  const [req] = await mock.requests('a1');
  assert.equal(req.path, '/a1/v1/messages');
  assert.equal(req.headers['x-api-key'], KEY);
  assert.equal(req.headers['anthropic-version'], '2023-06-01');
  assert.equal(req.headers.authorization, undefined, 'no OpenAI-style credential upstream');
  assert.equal(req.body_json.model, 'claude-sonnet-4-6');
  const system = req.body_json.system;
  const systemText = typeof system === 'string' ? system : system.map((b) => b.text).join('');
  assert.equal(systemText, 'be brief');
  assert.deepEqual(req.body_json.messages.map((m) => m.role), ['user']);
  assert.equal(req.body_json.max_tokens, 4096, 'default max_tokens');
});

test('bare claude-* model names resolve to Anthropic; api_base may end in /v1', async () => {
  const oa = client(`${gw.url}/v1`);
  const r = await oa.chat.completions.create({ model: 'claude-bare', messages: [{ role: 'user', content: 'hi' }], max_tokens: 50 });
  assert.equal(r.model, 'claude-bare');
  const [req] = await mock.requests('a2');
  assert.equal(req.path, '/a2/v1/messages');
  assert.equal(req.body_json.max_tokens, 50);
});

test('streaming: Anthropic events become OpenAI chunks with a usage chunk and [DONE]', async () => {
  const oa = client(`${gw.url}/v1`);
  const stream = await oa.chat.completions.create({
    model: 'claude', stream: true, stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'hi' }],
  });
  let text = '';
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  for (const c of chunks) text += c.choices[0]?.delta?.content ?? '';
  assert.ok(text.length > 0);
  assert.ok(chunks.every((c) => c.model === 'claude' && c.object === 'chat.completion.chunk'));
  assert.equal(new Set(chunks.map((c) => c.id)).size, 1, 'one id for the whole stream');
  const last = chunks[chunks.length - 1];
  assert.deepEqual(last.choices, []);
  assert.ok(last.usage.prompt_tokens > 0 && last.usage.completion_tokens > 0);
  assert.ok(chunks.some((c) => c.choices[0]?.finish_reason === 'stop'));
  const [req] = await mock.requests('a1');
  assert.equal(req.body_json.stream, true);
});

test('tool calls come back as OpenAI tool_calls, streamed and not', async () => {
  const oa = client(`${gw.url}/v1`);
  const tools = [{ type: 'function', function: { name: 'get_weather', description: 'w', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
  await mock.script({ tag: 'a1', times: 1, directives: { tool_calls: true } });
  const r = await oa.chat.completions.create({
    model: 'claude', tools, messages: [{ role: 'user', content: 'weather in Paris?' }],
  });
  const call = r.choices[0].message.tool_calls[0];
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.doesNotThrow(() => JSON.parse(call.function.arguments));
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  const [req] = await mock.requests('a1');
  assert.equal(req.body_json.tools[0].name, 'get_weather');
  assert.ok(req.body_json.tools[0].input_schema);

  await mock.reset();
  await mock.script({ tag: 'a1', times: 1, directives: { tool_calls: true } });
  const stream = await oa.chat.completions.create({
    model: 'claude', stream: true, tools, messages: [{ role: 'user', content: 'weather?' }],
  });
  let args = '';
  let name = '';
  let finish = null;
  for await (const c of stream) {
    const tc = c.choices[0]?.delta?.tool_calls?.[0];
    if (tc?.function?.name) name = tc.function.name;
    if (tc?.function?.arguments) args += tc.function.arguments;
    if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
  }
  assert.equal(name, 'get_weather');
  assert.doesNotThrow(() => JSON.parse(args), `arguments fragments join into JSON: ${args}`);
  assert.equal(finish, 'tool_calls');
});

test('provider errors are mapped: 429 with retry-after, prompt too long -> context window 400, 529 -> 503', async () => {
  const oa = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: MASTER_KEY, maxRetries: 0 });
  const body = { model: 'claude', messages: [{ role: 'user', content: 'hi' }] };
  const next = (directives) => mock.script({ tag: 'a1', times: 1, directives });
  await next({ status: 429, retry_after: 3 });
  await assert.rejects(oa.chat.completions.create(body), (e) => {
    assert.equal(e.status, 429);
    assert.equal(e.headers.get('retry-after'), '3');
    assert.match(e.message, /RateLimitError: AnthropicException/);
    return true;
  });
  await next({ error: 'prompt_too_long' });
  await assert.rejects(oa.chat.completions.create(body), (e) => {
    assert.equal(e.status, 400);
    assert.match(e.message, /ContextWindowExceededError/);
    return true;
  });
  await next({ status: 529 });
  await assert.rejects(oa.chat.completions.create(body), (e) => e.status === 503);
  // Before the first byte of a stream, the same errors are plain responses.
  await next({ status: 529 });
  await assert.rejects(oa.chat.completions.create({ ...body, stream: true }), (e) => e.status === 503);
});

test('a stream cut after the first bytes ends with an error event, never [DONE]', async () => {
  await mock.script({ tag: 'a1', times: 1, directives: { cut_after: 3 } });
  const r = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(r.status, 200);
  const wire = await r.text();
  assert.ok(!wire.includes('[DONE]'), wire);
  assert.match(wire, /data: \{"error":/);
});

test('embeddings on an Anthropic deployment are a clear 400', async () => {
  const oa = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: MASTER_KEY, maxRetries: 0 });
  await assert.rejects(oa.embeddings.create({ model: 'claude', input: 'x' }), (e) => {
    assert.equal(e.status, 400);
    assert.match(e.message, /anthropic does not support embeddings/);
    return true;
  });
  assert.equal((await mock.requests('a1')).length, 0);
});
