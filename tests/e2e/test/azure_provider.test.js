// Azure OpenAI deployments (issue 4 item 3): the openai client against the gateway, the mock
// answering on Azure's deployment URLs (which require api-version and an api-key header).
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { Mock, Gateway, MASTER_KEY } from '../lib/harness.js';
import { client } from '../lib/util.js';

let mock;
let gw;
const KEY = 'azure-upstream-key-0123456789abcdef';

before(async () => {
  mock = await Mock.start();
  gw = await Gateway.start(`
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: azure/my-gpt4o
      api_base: ${mock.url}
      api_key: ${KEY}
      api_version: "2024-10-21"
  - model_name: embed
    litellm_params: {model: azure/my-embed, api_base: ${mock.url}/, api_key: ${KEY}}
router_settings:
  # provider error mapping is under test here, not retries or cooldowns
  num_retries: 0
  disable_cooldowns: true
general_settings:
  master_key: ${MASTER_KEY}
`, { env: { AZURE_API_VERSION: '2024-06-01' } });
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
});

beforeEach(async () => { await mock.reset(); });

test('chat goes to /openai/deployments/<name>/chat/completions with api-version and api-key', async () => {
  const oa = client(`${gw.url}/v1`);
  const r = await oa.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, 'gpt-4o');
  assert.ok(r.choices[0].message.content.length > 0);
  const [req] = await mock.requests();
  assert.equal(req.path, '/openai/deployments/my-gpt4o/chat/completions');
  assert.match(req.query, /(^|&)api-version=2024-10-21(&|$)/);
  assert.equal(req.headers['api-key'], KEY);
  assert.equal(req.headers.authorization, undefined);
});

test('streaming through Azure keeps [DONE] and rewrites model', async () => {
  const oa = client(`${gw.url}/v1`);
  const stream = await oa.chat.completions.create({
    model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }],
  });
  let text = '';
  let usage = null;
  for await (const c of stream) {
    assert.equal(c.model, 'gpt-4o');
    text += c.choices[0]?.delta?.content ?? '';
    if (c.usage) usage = c.usage;
  }
  assert.ok(text.length > 0);
  assert.ok(usage && usage.total_tokens > 0);
});

test('embeddings use the deployment URL and AZURE_API_VERSION from the environment', async () => {
  const oa = client(`${gw.url}/v1`);
  const r = await oa.embeddings.create({ model: 'embed', input: ['a', 'b'], encoding_format: 'float' });
  assert.equal(r.data.length, 2);
  const [req] = await mock.requests();
  assert.equal(req.path, '/openai/deployments/my-embed/embeddings');
  assert.match(req.query, /api-version=2024-06-01/);
});

test('Azure errors: 429 keeps retry-after, content_filter is a content-policy 400', async () => {
  const oa = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: MASTER_KEY, maxRetries: 0 });
  await mock.script({ times: 1, directives: { status: 429, retry_after: 2 } });
  await assert.rejects(oa.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }), (e) => {
    assert.equal(e.status, 429);
    assert.equal(e.headers.get('retry-after'), '2');
    assert.match(e.message, /RateLimitError: AzureException/);
    return true;
  });
  await mock.script({ times: 1, directives: { error: 'content_filter' } });
  await assert.rejects(oa.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }), (e) => {
    assert.equal(e.status, 400);
    assert.match(e.message, /ContentPolicyViolationError/);
    return true;
  });
});
