// Gemini deployments (issue 4 item 4): the openai client against the gateway, the mock answering
// as Google AI Studio (generateContent / streamGenerateContent?alt=sse).
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { Mock, Gateway, MASTER_KEY } from '../lib/harness.js';
import { client } from '../lib/util.js';

let mock;
let gw;
const KEY = 'AIzaSyD-upstream-gemini-key-0123456789abc';

before(async () => {
  mock = await Mock.start();
  gw = await Gateway.start(`
model_list:
  - model_name: gem
    litellm_params: {model: gemini/gemini-2.0-flash, api_base: ${mock.url}/g1, api_key: ${KEY}}
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

test('non-stream: generateContent with the key in x-goog-api-key, answer in OpenAI shape', async () => {
  const oa = client(`${gw.url}/v1`);
  const r = await oa.chat.completions.create({
    model: 'gem', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }], max_tokens: 50,
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, 'gem');
  assert.ok(r.choices[0].message.content.length > 0);
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.ok(r.usage.prompt_tokens > 0);
  const [req] = await mock.requests('g1');
  assert.equal(req.path, '/g1/v1beta/models/gemini-2.0-flash:generateContent');
  assert.equal(req.headers['x-goog-api-key'], KEY);
  assert.ok(!req.query.includes('key='), 'the key never goes into the URL');
  assert.ok(req.body_json.systemInstruction, 'system message became systemInstruction');
  assert.equal(req.body_json.contents[0].role, 'user');
  assert.equal(req.body_json.generationConfig.maxOutputTokens, 50);
});

test('stream: streamGenerateContent?alt=sse becomes OpenAI chunks with usage and [DONE]', async () => {
  const oa = client(`${gw.url}/v1`);
  const stream = await oa.chat.completions.create({
    model: 'gem', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }],
  });
  let text = '';
  let usage = null;
  for await (const c of stream) {
    assert.equal(c.model, 'gem');
    text += c.choices[0]?.delta?.content ?? '';
    if (c.usage) usage = c.usage;
  }
  assert.ok(text.length > 0);
  assert.ok(usage && usage.total_tokens > 0);
  const [req] = await mock.requests('g1');
  assert.equal(req.path, '/g1/v1beta/models/gemini-2.0-flash:streamGenerateContent');
  assert.match(req.query, /alt=sse/);
});

test('tools: functionCall comes back as tool_calls', async () => {
  await mock.script({ tag: 'g1', times: 1, directives: { tool_calls: true } });
  const oa = client(`${gw.url}/v1`);
  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const r = await oa.chat.completions.create({ model: 'gem', tools, messages: [{ role: 'user', content: 'weather?' }] });
  const call = r.choices[0].message.tool_calls[0];
  assert.equal(call.function.name, 'get_weather');
  assert.doesNotThrow(() => JSON.parse(call.function.arguments));
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  const [req] = await mock.requests('g1');
  assert.equal(req.body_json.tools[0].functionDeclarations[0].name, 'get_weather');
});

test('errors: RESOURCE_EXHAUSTED is a 429 with retry-after from RetryInfo', async () => {
  await mock.script({ tag: 'g1', times: 1, directives: { status: 429 } });
  const oa = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: MASTER_KEY, maxRetries: 0 });
  await assert.rejects(oa.chat.completions.create({ model: 'gem', messages: [{ role: 'user', content: 'x' }] }), (e) => {
    assert.equal(e.status, 429);
    assert.match(e.message, /RateLimitError: GeminiException/);
    assert.match(e.headers.get('retry-after') ?? '', /^\d+$/);
    return true;
  });
});
