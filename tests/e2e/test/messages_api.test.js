// POST /v1/messages (Anthropic format in, issue 4 item 2) with the official @anthropic-ai/sdk:
// native pass-through to an Anthropic deployment, and translation to an OpenAI deployment.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { Mock, Gateway, MASTER_KEY } from '../lib/harness.js';

let mock;
let gw;
let sdk;
const ANT_KEY = 'sk-ant-upstream-0123456789abcdef';

before(async () => {
  mock = await Mock.start();
  gw = await Gateway.start(`
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-6, api_base: ${mock.url}/a1, api_key: ${ANT_KEY}}
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o-2024-08-06, api_base: ${mock.base('o1')}, api_key: sk-openai-upstream}
router_settings:
  # provider error mapping is under test here, not retries or cooldowns
  num_retries: 0
  disable_cooldowns: true
general_settings:
  master_key: ${MASTER_KEY}
`);
  sdk = new Anthropic({ baseURL: gw.url, apiKey: MASTER_KEY, maxRetries: 0 });
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
});

beforeEach(async () => { await mock.reset(); });

const tools = [{ name: 'get_weather', description: 'weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];

test('native: an Anthropic deployment gets the body unchanged except model', async () => {
  const msg = await sdk.messages.create({
    model: 'claude', max_tokens: 64, system: 'be brief', metadata: { user_id: 'u-1' },
    messages: [{ role: 'user', content: 'hi' }],
  });
  assert.equal(msg.type, 'message');
  assert.equal(msg.role, 'assistant');
  assert.equal(msg.model, 'claude');
  assert.equal(msg.content[0].type, 'text');
  assert.ok(msg.usage.input_tokens > 0);
  const [req] = await mock.requests('a1');
  assert.equal(req.path, '/a1/v1/messages');
  assert.equal(req.headers['x-api-key'], ANT_KEY, 'the deployment key, not the caller key');
  assert.equal(req.body_json.model, 'claude-sonnet-4-6');
  assert.equal(req.body_json.system, 'be brief');
  assert.deepEqual(req.body_json.metadata, { user_id: 'u-1' });
});

test('native streaming passes Anthropic events through in order', async () => {
  const stream = sdk.messages.stream({ model: 'claude', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
  const types = [];
  stream.on('streamEvent', (e) => types.push(e.type));
  const final = await stream.finalMessage();
  assert.equal(types[0], 'message_start');
  assert.equal(types[types.length - 1], 'message_stop');
  assert.ok(types.includes('content_block_delta'));
  assert.ok(final.content[0].text.length > 0);
  assert.ok(final.usage.output_tokens > 0);
});

test('translated: an OpenAI deployment answers in Anthropic format, tools included', async () => {
  await mock.script({ tag: 'o1', times: 1, directives: { tool_calls: true } });
  const msg = await sdk.messages.create({
    model: 'gpt', max_tokens: 64, tools, messages: [{ role: 'user', content: 'weather in Paris?' }],
  });
  assert.equal(msg.type, 'message');
  assert.equal(msg.model, 'gpt');
  const tu = msg.content.find((b) => b.type === 'tool_use');
  assert.ok(tu, JSON.stringify(msg.content));
  assert.equal(tu.name, 'get_weather');
  assert.equal(typeof tu.input, 'object');
  assert.equal(msg.stop_reason, 'tool_use');
  const [req] = await mock.requests('o1');
  assert.equal(req.path, '/o1/v1/chat/completions');
  assert.equal(req.body_json.model, 'gpt-4o-2024-08-06');
  assert.equal(req.body_json.tools[0].function.name, 'get_weather');
  assert.equal(req.headers.authorization, 'Bearer sk-openai-upstream');
});

test('translated streaming: OpenAI chunks become Anthropic events, tool arguments intact', async () => {
  const text = sdk.messages.stream({ model: 'gpt', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
  const msg = await text.finalMessage();
  assert.equal(msg.content[0].type, 'text');
  assert.ok(msg.content[0].text.length > 0);
  assert.equal(msg.stop_reason, 'end_turn');

  await mock.script({ tag: 'o1', times: 1, directives: { tool_calls: true } });
  const withTools = sdk.messages.stream({ model: 'gpt', max_tokens: 64, tools, messages: [{ role: 'user', content: 'weather?' }] });
  const final = await withTools.finalMessage();
  const tu = final.content.find((b) => b.type === 'tool_use');
  assert.ok(tu);
  assert.equal(tu.name, 'get_weather');
  assert.equal(typeof tu.input, 'object');
  assert.equal(final.stop_reason, 'tool_use');
});

test('errors use the Anthropic envelope: unknown model, missing max_tokens, upstream 429, bad key', async () => {
  await assert.rejects(sdk.messages.create({ model: 'nope', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }), (e) => {
    assert.equal(e.status, 400);
    assert.equal(e.error.type, 'error');
    assert.equal(e.error.error.type, 'invalid_request_error');
    assert.match(e.error.error.message, /Invalid model name passed in model=nope/);
    return true;
  });
  const r = await fetch(`${gw.url}/v1/messages`, {
    method: 'POST', headers: { 'x-api-key': MASTER_KEY, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'claude', messages: [{ role: 'user', content: 'x' }] }),
  });
  assert.equal(r.status, 400);
  const body = await r.json();
  assert.equal(body.type, 'error');
  assert.match(body.error.message, /max_tokens/);
  await mock.script({ tag: 'a1', times: 1, directives: { status: 429, retry_after: 4 } });
  await assert.rejects(sdk.messages.create({ model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }), (e) => {
    assert.equal(e.status, 429);
    assert.equal(e.error.error.type, 'rate_limit_error');
    return true;
  });
  const bad = new Anthropic({ baseURL: gw.url, apiKey: 'sk-wrong', maxRetries: 0 });
  await assert.rejects(bad.messages.create({ model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }), (e) => {
    assert.equal(e.status, 401);
    assert.equal(e.error.error.type, 'authentication_error');
    return true;
  });
});

test('count_tokens returns an estimate', async () => {
  const r = await sdk.messages.countTokens({ model: 'claude', messages: [{ role: 'user', content: 'hello there, how are you?' }] });
  assert.ok(r.input_tokens > 0 && r.input_tokens < 50, JSON.stringify(r));
});
