// OpenAI-compatible providers selected by prefix (issue 4 item 5): default bases overridable from
// LiteLLM's environment variables, keys from the provider's variable, bare-name resolution.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { Mock, Gateway, MASTER_KEY } from '../lib/harness.js';
import { client } from '../lib/util.js';

let mock;
let gw;

before(async () => {
  mock = await Mock.start();
  gw = await Gateway.start(`
model_list:
  - model_name: groq-llama
    litellm_params: {model: groq/llama-3.3-70b-versatile}
  - model_name: mistral-small
    litellm_params: {model: mistral/mistral-small-latest}
  - model_name: local
    litellm_params: {model: hosted_vllm/meta-llama/Llama-3.1-8B-Instruct, api_base: ${mock.base('vllm')}}
  - model_name: bare-gpt
    litellm_params: {model: gpt-4o-mini}
router_settings:
  # provider error mapping is under test here, not retries or cooldowns
  num_retries: 0
  disable_cooldowns: true
general_settings:
  master_key: ${MASTER_KEY}
`, {
    env: {
      GROQ_API_KEY: 'gsk-groq-key-0123456789', GROQ_API_BASE: mock.base('groq'),
      MISTRAL_API_KEY: 'mistral-key-0123456789', MISTRAL_API_BASE: mock.base('mistral'),
      OPENAI_API_KEY: 'sk-openai-key-0123456789', OPENAI_API_BASE: mock.base('oa'),
    },
  });
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
});

beforeEach(async () => { await mock.reset(); });

for (const [group, tag, upstreamModel, key] of [
  ['groq-llama', 'groq', 'llama-3.3-70b-versatile', 'gsk-groq-key-0123456789'],
  ['mistral-small', 'mistral', 'mistral-small-latest', 'mistral-key-0123456789'],
  ['local', 'vllm', 'meta-llama/Llama-3.1-8B-Instruct', null],
  ['bare-gpt', 'oa', 'gpt-4o-mini', 'sk-openai-key-0123456789'],
]) {
  test(`${group}: base and key from the provider's environment, model prefix stripped`, async () => {
    const oa = client(`${gw.url}/v1`);
    const r = await oa.chat.completions.create({ model: group, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.model, group);
    const stream = await oa.chat.completions.create({ model: group, stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    assert.ok(text.length > 0);
    const reqs = await mock.requests(tag);
    assert.equal(reqs.length, 2);
    assert.equal(reqs[0].path, `/${tag}/v1/chat/completions`);
    assert.equal(reqs[0].body_json.model, upstreamModel);
    assert.equal(reqs[0].headers.authorization, key ? `Bearer ${key}` : undefined);
  });
}

test('a provider error through a compatible provider is mapped (503 -> 503 ServiceUnavailableError)', async () => {
  await mock.script({ tag: 'groq', times: 1, directives: { status: 503 } });
  const oa = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: MASTER_KEY, maxRetries: 0 });
  await assert.rejects(oa.chat.completions.create({ model: 'groq-llama', messages: [{ role: 'user', content: 'x' }] }), (e) => {
    assert.equal(e.status, 503);
    assert.match(e.message, /ServiceUnavailableError: GroqException/);
    return true;
  });
});
