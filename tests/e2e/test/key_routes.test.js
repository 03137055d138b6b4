// Key-level route narrowing (auth-budgets-limits.md §3.2): key_type and allowed_routes are
// enforced on LLM, model and management routes; a denial is 403 auth_error and calls nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Mock, Gateway, MASTER_KEY } from '../lib/harness.js';
import { chatBody, post, get, assertEnvelope } from '../lib/util.js';

let mock;
let gw;
let dir;

before(async () => {
  mock = await Mock.start();
  dir = mkdtempSync(path.join(tmpdir(), 'sy-routes-'));
  gw = await Gateway.start(`
model_list:
  - model_name: m
    litellm_params: {model: openai/gpt-4o-mini, api_base: ${mock.base('kr')}, api_key: sk-up-kr}
general_settings:
  master_key: ${MASTER_KEY}
`, { env: { DATABASE_URL: undefined }, args: ['--db', path.join(dir, 'switchyard.db')] });
});

after(async () => {
  if (gw) await gw.stop();
  if (mock) await mock.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function newKey(body) {
  const r = await post(`${gw.url}/key/generate`, body);
  assert.equal(r.status, 200, r.text);
  return r.json.key;
}

// An admin-role user, so that the role alone would allow management routes.
async function adminUser() {
  const r = await post(`${gw.url}/user/new`, { user_role: 'proxy_admin', auto_create_key: false });
  assert.equal(r.status, 200, r.text);
  return r.json.user_id;
}

test('key_type llm_api: LLM and model routes only, even for a proxy_admin user', async () => {
  const user = await adminUser();
  const key = await newKey({ user_id: user, key_type: 'llm_api' });
  const ok = await post(`${gw.url}/v1/chat/completions`, chatBody('m'), { key });
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await get(`${gw.url}/v1/models`, { key })).status, 200);
  const before = (await get(`${gw.url}/key/list`)).json.total_count;
  const gen = await post(`${gw.url}/key/generate`, {}, { key });
  assertEnvelope(assert, gen, 403);
  assert.match(gen.json.error.message, /key_type llm_api/);
  assert.equal((await get(`${gw.url}/key/list`)).json.total_count, before, 'no key was created');
  assertEnvelope(assert, await get(`${gw.url}/user/list`, { key }), 403);
});

test('key_type management: no LLM calls, and the upstream is not called', async () => {
  const user = await adminUser();
  const key = await newKey({ user_id: user, key_type: 'management' });
  const n = (await mock.requests('kr')).length;
  const r = await post(`${gw.url}/v1/chat/completions`, chatBody('m'), { key });
  assertEnvelope(assert, r, 403);
  assert.equal((await mock.requests('kr')).length, n);
  assert.equal((await get(`${gw.url}/user/list`, { key })).status, 200);
});

test('key_type read_only: its own /key/info only', async () => {
  const key = await newKey({ key_type: 'read_only' });
  assert.equal((await get(`${gw.url}/key/info`, { key })).status, 200);
  assertEnvelope(assert, await post(`${gw.url}/v1/chat/completions`, chatBody('m'), { key }), 403);
  assertEnvelope(assert, await get(`${gw.url}/v1/models`, { key }), 403);
});

test('allowed_routes: exact paths (with or without /v1) and prefix patterns', async () => {
  const key = await newKey({ allowed_routes: ['/chat/completions'] });
  assert.equal((await post(`${gw.url}/v1/chat/completions`, chatBody('m'), { key })).status, 200);
  assert.equal((await post(`${gw.url}/chat/completions`, chatBody('m'), { key })).status, 200);
  const emb = await post(`${gw.url}/v1/embeddings`, { model: 'm', input: 'x' }, { key });
  assertEnvelope(assert, emb, 403);
  assert.match(emb.json.error.message, /allowed_routes/);
  assertEnvelope(assert, await get(`${gw.url}/key/info`, { key }), 403);

  const infoKey = await newKey({ allowed_routes: ['/key/*', 'llm_api_routes'] });
  assert.equal((await get(`${gw.url}/key/info`, { key: infoKey })).status, 200);
  assert.equal((await post(`${gw.url}/v1/chat/completions`, chatBody('m'), { key: infoKey })).status, 200);
  assertEnvelope(assert, await get(`${gw.url}/user/info`, { key: infoKey }), 403);
});

test('a plain key (default type, no allowed_routes) keeps every route its role allows', async () => {
  const key = await newKey({});
  assert.equal((await post(`${gw.url}/v1/chat/completions`, chatBody('m'), { key })).status, 200);
  assert.equal((await get(`${gw.url}/key/info`, { key })).status, 200);
});

test('a key\'s own aliases resolve before the model table, and model access checks the target group', async () => {
  const key = await newKey({ models: ['m'], aliases: { 'my-model': 'm' } });
  const r = await post(`${gw.url}/v1/chat/completions`, chatBody('my-model'), { key });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.model, 'my-model', 'the answer carries the name the client sent');
  const [last] = (await mock.requests('kr')).slice(-1);
  assert.equal(last.body_json.model, 'gpt-4o-mini');
  // Another key has no such alias.
  const other = await newKey({});
  const r2 = await post(`${gw.url}/v1/chat/completions`, chatBody('my-model'), { key: other });
  assertEnvelope(assert, r2, 400);
});

test('/v1/models lists only the groups a virtual key may call; the master key sees all', async () => {
  const all = await get(`${gw.url}/v1/models`);
  assert.deepEqual(all.json.data.map((m) => m.id), ['m']);
  const none = await newKey({ models: ['other-group'] });
  const r = await get(`${gw.url}/v1/models`, { key: none });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.data, []);
  const some = await newKey({ models: ['m'] });
  assert.deepEqual((await get(`${gw.url}/v1/models`, { key: some })).json.data.map((m) => m.id), ['m']);
  const any = await newKey({});
  assert.deepEqual((await get(`${gw.url}/v1/models`, { key: any })).json.data.map((m) => m.id), ['m']);
});
