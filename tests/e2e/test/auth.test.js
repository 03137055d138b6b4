// Authentication: master key headers, 401 rows, public health routes, no-master-key mode,
// unresolvable master key, and secrets never written to the logs.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import OpenAI from 'openai';
import { Mock, Gateway, MASTER_KEY, runGateway, writeTemp } from '../lib/harness.js';
import { client, chatBody, post, get, assertEnvelope, tryConnect } from '../lib/util.js';

const UPSTREAM_KEY = 'sk-upstream-auth-secret-9876543210';
const WRONG_KEY = 'sk-wrong-client-key-5555555555';

let mock;
let gw;

function config(extra = '') {
  return `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: ${mock.base('a1')}, api_key: ${UPSTREAM_KEY}}
${extra}`;
}

before(async () => {
  mock = await Mock.start();
  gw = await Gateway.start(config(`general_settings:\n  master_key: ${MASTER_KEY}\n`));
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
});

beforeEach(async () => { await mock.reset(); });

const chatUrl = () => `${gw.url}/v1/chat/completions`;

test('master key accepted as Authorization: Bearer', async () => {
  const r = await post(chatUrl(), chatBody('gpt-4o'));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.model, 'gpt-4o');
});

test('master key accepted in x-litellm-api-key and api-key headers, and as lower-case bearer', async () => {
  for (const header of ['x-litellm-api-key', 'api-key']) {
    const r = await post(chatUrl(), chatBody('gpt-4o'), { key: null, headers: { [header]: MASTER_KEY } });
    assert.equal(r.status, 200, `${header}: ${r.text}`);
  }
  const bearerLower = await post(chatUrl(), chatBody('gpt-4o'),
    { key: null, headers: { authorization: `bearer ${MASTER_KEY}` } });
  assert.equal(bearerLower.status, 200, `lower-case bearer: ${bearerLower.text}`);
  assert.equal((await mock.stats()).total, 3);
  // A wrong key in those headers is still rejected.
  for (const header of ['x-litellm-api-key', 'api-key']) {
    const r = await post(chatUrl(), chatBody('gpt-4o'), { key: null, headers: { [header]: WRONG_KEY } });
    assertEnvelope(assert, r, 401);
  }
});

test('missing key → 401 "No api key passed in."', async () => {
  const r = await post(chatUrl(), chatBody('gpt-4o'), { key: null });
  const e = assertEnvelope(assert, r, 401);
  assert.equal(e.message, 'Authentication Error, No api key passed in.');
  assert.equal(e.type, 'auth_error');
  assert.equal((await mock.stats()).total, 0, 'rejected requests never reach the upstream');
});

test('wrong key → 401', async () => {
  const r = await post(chatUrl(), chatBody('gpt-4o'), { key: WRONG_KEY });
  const e = assertEnvelope(assert, r, 401);
  assert.equal(e.type, 'auth_error');
  assert.match(e.message, /^Authentication Error/);
  assert.ok(!e.message.includes(WRONG_KEY), 'the rejected key is not echoed');
  // Same key through the SDK.
  const oa = client(`${gw.url}/v1`, WRONG_KEY);
  await assert.rejects(
    oa.chat.completions.create(chatBody('gpt-4o')),
    (err) => err instanceof OpenAI.AuthenticationError && err.status === 401);
  // A key that differs only in the last character, and a prefix of the right key.
  for (const k of [MASTER_KEY.slice(0, -1) + 'x', MASTER_KEY.slice(0, -1), `${MASTER_KEY}0`]) {
    const rr = await post(chatUrl(), chatBody('gpt-4o'), { key: k });
    assert.equal(rr.status, 401, `near-miss key ${k}`);
  }
  assert.equal((await mock.stats()).total, 0);
});

test('Authorization without Bearer prefix → 401 malformed', async () => {
  const r = await post(chatUrl(), chatBody('gpt-4o'), { key: null, headers: { authorization: 'Token x' } });
  const e = assertEnvelope(assert, r, 401);
  assert.equal(e.message, 'Authentication Error, Malformed API Key passed in. Ensure Key has `Bearer ` prefix.');
});

test('health liveliness and readiness are public', async () => {
  for (const p of ['/health/liveliness', '/health/liveness', '/health/readiness']) {
    const r = await get(`${gw.url}${p}`, { key: null });
    assert.equal(r.status, 200, `${p}: ${r.text}`);
  }
});

test('/health and /v1/models need the key', async () => {
  for (const p of ['/health', '/v1/models', '/models']) {
    const anon = await get(`${gw.url}${p}`, { key: null });
    assertEnvelope(assert, anon, 401);
    const wrong = await get(`${gw.url}${p}`, { key: WRONG_KEY });
    assertEnvelope(assert, wrong, 401);
    const ok = await get(`${gw.url}${p}`);
    assert.equal(ok.status, 200, `${p} with the master key: ${ok.text}`);
  }
});

test('no master key: listens on loopback only, LLM routes open, management routes 403', async () => {
  const open = await Gateway.start(config(), { host: '0.0.0.0', env: { LITELLM_MASTER_KEY: undefined } });
  try {
    const listening = open.jsonLogs().find((j) => j.message === 'switchyard listening');
    assert.match(String(listening.address), /^127\.0\.0\.1:\d+$/, `bound address: ${listening.address}`);
    // A loud warning about running without a master key.
    assert.ok(open.jsonLogs().some((j) => /^warn/i.test(String(j.level)) && /master.?key/i.test(JSON.stringify(j))),
      `warning about the missing master key expected; logs:\n${open.logs.join('\n')}`);
    // Not reachable on a non-loopback address of this machine.
    const ext = Object.values(os.networkInterfaces()).flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    if (ext) {
      assert.equal(await tryConnect(open.port, ext.address), 'ECONNREFUSED',
        `must not accept connections on ${ext.address}`);
    }
    const r = await post(`${open.url}/v1/chat/completions`, chatBody('gpt-4o'), { key: null });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.choices[0].message.content.length > 0);
    const m = await get(`${open.url}/v1/models`, { key: null });
    assert.equal(m.status, 200, m.text);
    const mgmt = await post(`${open.url}/key/generate`, {}, { key: null });
    assertEnvelope(assert, mgmt, 403);
  } finally {
    assert.equal((await open.stop()).code, 0);
  }
});

test('master_key: os.environ/UNSET → refuses to start naming the variable', async () => {
  const p = writeTemp('config.yaml', `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: ${mock.base('a1')}, api_key: ${UPSTREAM_KEY}}
general_settings:
  master_key: os.environ/SY_E2E_UNSET_MASTER_KEY_VAR
`);
  let res;
  try {
    res = await runGateway(['--config', p, '--port', '0', '--host', '127.0.0.1', '--num_workers', '1'],
      { env: { SY_E2E_UNSET_MASTER_KEY_VAR: undefined }, timeoutMs: 5000 });
  } catch (e) {
    assert.fail(`the gateway kept running with an unresolvable master key (${e.message})`);
  }
  assert.notEqual(res.code, 0, 'non-zero exit');
  assert.match(res.stdout + res.stderr, /SY_E2E_UNSET_MASTER_KEY_VAR/);
  assert.ok(!/switchyard listening/.test(res.stdout), 'never listened');
  // Empty counts as unset too.
  const empty = await runGateway(['--config', p, '--port', '0', '--host', '127.0.0.1', '--num_workers', '1'],
    { env: { SY_E2E_UNSET_MASTER_KEY_VAR: '' }, timeoutMs: 5000 }).catch((e) => ({ code: 'timeout', stdout: '', stderr: e.message }));
  assert.notEqual(empty.code, 0, 'empty master key variable also refused');
  assert.notEqual(empty.code, 'timeout', 'empty master key variable also refused');
});

test('master key, upstream key and client keys never appear in the logs', async () => {
  // Successful, rejected and upstream-failing requests.
  await post(chatUrl(), chatBody('gpt-4o'));
  await post(chatUrl(), chatBody('gpt-4o', { stream: true }));
  await post(chatUrl(), chatBody('gpt-4o'), { key: WRONG_KEY });
  await post(chatUrl(), chatBody('gpt-4o'), { key: null, headers: { authorization: `Token ${WRONG_KEY}` } });
  await post(chatUrl(), chatBody('gpt-4o', { mock: { status: 401 } }));
  await post(chatUrl(), chatBody('gpt-4o', { mock: { status: 500, message: `upstream saw ${UPSTREAM_KEY}` } }));
  await get(`${gw.url}/health`);
  await post(chatUrl(), chatBody('nope-model'));
  // Each request writes a log line; wait until the last one is there.
  await gw.waitForLog((l) => l.includes('nope-model'), 3000);
  const out = gw.logs.join('\n') + gw.stderr;
  assert.ok(gw.logs.length > 3, 'the gateway logged something');
  for (const [name, secret] of [['master key', MASTER_KEY], ['upstream api_key', UPSTREAM_KEY],
    ['client key', WRONG_KEY]]) {
    assert.ok(!out.includes(secret), `${name} appears in the gateway output`);
  }
});
