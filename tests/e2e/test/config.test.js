// --check-config diagnostics, os.environ references, --strict, and the seed's config running
// unchanged against the mock through OPENAI_API_BASE / OPENAI_BASE_URL.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Mock, Gateway, MASTER_KEY, runGateway, writeTemp } from '../lib/harness.js';
import { client } from '../lib/util.js';

const SEED = '/work/shared/seed/litellm_config.yaml';

// Variables the seed references; unset unless a test sets them.
const SEED_VARS_UNSET = {
  LITELLM_MASTER_KEY: undefined, ANTHROPIC_API_KEY: undefined, OPENAI_API_KEY: undefined,
  OPENAI_API_KEY_1: undefined, OPENAI_API_KEY_2: undefined, REDIS_HOST: undefined,
  REDIS_PASSWORD: undefined, DATABASE_URL: undefined, OPENAI_API_BASE: undefined,
  OPENAI_BASE_URL: undefined,
};

let mock;

before(async () => { mock = await Mock.start(); });
after(async () => { if (mock) await mock.stop(); });
beforeEach(async () => { await mock.reset(); });

test('--check-config on the seed config with LITELLM_MASTER_KEY set → exit 0', async () => {
  const r = await runGateway(['--check-config', SEED],
    { env: { ...SEED_VARS_UNSET, LITELLM_MASTER_KEY: MASTER_KEY } });
  assert.equal(r.code, 0, `stderr:\n${r.stderr}\nstdout:\n${r.stdout}`);
  assert.ok(!r.stderr.includes(MASTER_KEY) && !r.stdout.includes(MASTER_KEY), 'master key not printed');
});

test('bad routing_strategy → exit 1 with file:line:col and the YAML path', async () => {
  const text = [
    'model_list:',                                                             // 1
    '  - model_name: gpt-4o',                                                  // 2
    '    litellm_params: {model: openai/gpt-4o, api_key: sk-x-0123456789}',    // 3
    'router_settings:',                                                        // 4
    '  num_retries: 1',                                                        // 5
    '  routing_strategy: fastest-please',                                      // 6
    '',
  ].join('\n');
  const p = writeTemp('bad.yaml', text);
  const r = await runGateway(['--check-config', p]);
  assert.equal(r.code, 1, `stderr:\n${r.stderr}`);
  assert.match(r.stderr, /router_settings\.routing_strategy/);
  const esc = p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = r.stderr.match(new RegExp(`${esc}:(\\d+):(\\d+): router_settings\\.routing_strategy: (.+)`));
  assert.ok(m, `diagnostic "file:line:col: yaml.path: message" expected; stderr:\n${r.stderr}`);
  assert.equal(Number(m[1]), 6, 'line number of the bad value');
  assert.ok(Number(m[2]) >= 1);
  assert.match(m[3], /fastest-please|routing_strategy|simple-shuffle/, 'message says what is wrong');
});

test('other config errors name their YAML path', async () => {
  const p = writeTemp('bad2.yaml', [
    'model_list:',
    '  - model_name: gpt-4o',
    '    litellm_params:',
    '      model: openai/gpt-4o',
    '      timeout: -3',
    '',
  ].join('\n'));
  const r = await runGateway(['--check-config', p]);
  assert.equal(r.code, 1, `stderr:\n${r.stderr}`);
  assert.match(r.stderr, /:5:\d+: model_list\[0\]\.litellm_params\.timeout: /);
});

test('unset os.environ api key → warning naming the variable, still valid', async () => {
  const p = writeTemp('envref.yaml', [
    'model_list:',
    '  - model_name: gpt-4o',
    '    litellm_params:',
    '      model: openai/gpt-4o',
    '      api_key: os.environ/SY_E2E_UNSET_API_KEY_VAR',
    '',
  ].join('\n'));
  const r = await runGateway(['--check-config', p], { env: { SY_E2E_UNSET_API_KEY_VAR: undefined } });
  assert.equal(r.code, 0, `stderr:\n${r.stderr}`);
  const line = r.stderr.split('\n').find((l) => l.includes('SY_E2E_UNSET_API_KEY_VAR'));
  assert.ok(line, `a warning names the variable; stderr:\n${r.stderr}`);
  assert.match(line, /warn/i);
  assert.match(line, /model_list\[0\]\.litellm_params\.api_key/, 'and the YAML path');
});

test('unknown key warns; --strict makes it an error', async () => {
  const p = writeTemp('unknown.yaml', [
    'model_list:',
    '  - model_name: gpt-4o',
    '    litellm_params: {model: openai/gpt-4o, api_key: sk-x-0123456789}',
    'general_settings:',
    '  mater_key: sk-typo-0123456789',
    '',
  ].join('\n'));
  const lax = await runGateway(['--check-config', p]);
  assert.equal(lax.code, 0, `stderr:\n${lax.stderr}`);
  assert.match(lax.stderr, /general_settings\.mater_key/);
  assert.match(lax.stderr, /warn/i);
  const strict = await runGateway(['--strict', '--check-config', p]);
  assert.equal(strict.code, 1, `stderr:\n${strict.stderr}`);
  assert.match(strict.stderr, /:5:\d+: general_settings\.mater_key/);
});

async function startSeed(baseVar) {
  return Gateway.start(readFileSync(SEED, 'utf8'), {
    env: {
      ...SEED_VARS_UNSET,
      LITELLM_MASTER_KEY: MASTER_KEY,
      OPENAI_API_KEY: 'sk-seed-fast-0123456789',
      OPENAI_API_KEY_1: 'sk-seed-pool1-0123456789',
      OPENAI_API_KEY_2: 'sk-seed-pool2-0123456789',
      [baseVar]: mock.base(),
    },
  });
}

test('the seed config runs unchanged against the mock (OPENAI_API_BASE)', async () => {
  const gw = await startSeed('OPENAI_API_BASE');
  try {
    const oa = client(`${gw.url}/v1`);
    const fast = await oa.chat.completions.create({ model: 'gpt-fast', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(fast.model, 'gpt-fast');
    assert.ok(fast.choices[0].message.content.length > 0);
    let reqs = await mock.requests('');
    assert.equal(reqs.length, 1);
    assert.equal(reqs[0].body_json.model, 'gpt-4o-mini');
    assert.equal(reqs[0].headers.authorization, 'Bearer sk-seed-fast-0123456789');

    const keys = new Set();
    for (let i = 0; i < 6; i++) {
      const stream = await oa.chat.completions.create({
        model: 'gpt4o-pool', messages: [{ role: 'user', content: 'hi' }], stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      for await (const c of stream) {
        assert.equal(c.model, 'gpt4o-pool');
        text += c.choices[0]?.delta?.content ?? '';
      }
      assert.ok(text.length > 0);
    }
    reqs = (await mock.requests('')).slice(1);
    assert.equal(reqs.length, 6);
    for (const r of reqs) {
      assert.equal(r.body_json.model, 'gpt-4o');
      keys.add(r.headers.authorization);
    }
    for (const k of keys) {
      assert.ok(['Bearer sk-seed-pool1-0123456789', 'Bearer sk-seed-pool2-0123456789'].includes(k), k);
    }
    const models = [];
    for await (const m of oa.models.list()) models.push(m.id);
    assert.deepEqual(models, ['claude-quality', 'gpt-fast', 'gpt4o-pool']);
  } finally {
    await gw.stop();
  }
});

test('the seed config runs against the mock with OPENAI_BASE_URL too', async () => {
  const gw = await startSeed('OPENAI_BASE_URL');
  try {
    const r = await client(gw.url).chat.completions.create({ model: 'gpt-fast', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.model, 'gpt-fast');
    const reqs = await mock.requests('');
    assert.equal(reqs.length, 1);
    assert.equal(reqs[0].body_json.model, 'gpt-4o-mini');
  } finally {
    await gw.stop();
  }
});
