// Virtual keys end to end (issue 6), on SQLite and, when SY_TEST_PG_URL is set (make test runs
// scripts/test-services.sh), on PostgreSQL: the seed's /key/generate call and the key through the
// openai SDK; model denial; budget exhaustion; expiry; block/unblock; delete; bad input; the
// spend ledger against x-litellm-response-cost; SIGTERM and kill -9 losing no acknowledged row.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { Mock, Gateway, MASTER_KEY } from '../lib/harness.js';
import { client, chatBody, post, get, assertEnvelope } from '../lib/util.js';

const PG_URL = process.env.SY_TEST_PG_URL;
const IN_PRICE = 0.000001;
const OUT_PRICE = 0.000002;

function dropPgTables() {
  execFileSync('psql', [PG_URL, '-q', '-c',
    'DROP TABLE IF EXISTS sy_schema_migrations, "LiteLLM_VerificationToken", "LiteLLM_UserTable", ' +
    '"LiteLLM_TeamTable", "LiteLLM_TeamMembership", "LiteLLM_EndUserTable", "LiteLLM_SpendLogs", sy_spendlogs_v2, sy_token_renames CASCADE'],
  { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, PGOPTIONS: '--client-min-messages=warning' } });
}

const backends = [['sqlite', null]];
if (PG_URL) backends.push(['postgres', PG_URL]);

for (const [backend, dbUrl] of backends) {
  describe(`virtual keys on ${backend}`, () => {
    let mock;
    let gw;
    let dir;
    const env = dbUrl ? { DATABASE_URL: dbUrl } : { DATABASE_URL: undefined };

    const config = () => `
model_list:
  - model_name: gpt-fast
    litellm_params: {model: openai/gpt-4o-mini, api_base: ${mock.base('fast')}, api_key: sk-up-1,
                     input_cost_per_token: ${IN_PRICE}, output_cost_per_token: ${OUT_PRICE}}
  - model_name: gpt4o-pool
    litellm_params: {model: openai/gpt-4o, api_base: ${mock.base('pool')}, api_key: sk-up-2,
                     input_cost_per_token: ${IN_PRICE}, output_cost_per_token: ${OUT_PRICE}}
  - model_name: claude-quality
    litellm_params: {model: openai/claude-like, api_base: ${mock.base('cq')}, api_key: sk-up-3}
general_settings:
  master_key: ${MASTER_KEY}
`;
    const start = async () => Gateway.start(config(), { env, args: ['--db', path.join(dir, 'switchyard.db')] });

    before(async () => {
      if (dbUrl) dropPgTables();
      dir = mkdtempSync(path.join(tmpdir(), 'sy-keys-'));
      mock = await Mock.start();
      gw = await start();
    });
    after(async () => {
      if (gw) await gw.stop();
      if (mock) await mock.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const gen = (body, key = MASTER_KEY) => post(`${gw.url}/key/generate`, body, { key });

    test("the seed's /key/generate call, then the key through the openai SDK", async () => {
      const r = await gen({
        key_alias: 'staging-pipeline', models: ['gpt-fast', 'gpt4o-pool'], max_budget: 5.0,
        budget_duration: '30d', tpm_limit: 100000, rpm_limit: 100,
      });
      assert.equal(r.status, 200, r.text);
      const k = r.json;
      assert.match(k.key, /^sk-[A-Za-z0-9_-]{22}$/);
      assert.match(k.token, /^[0-9a-f]{64}$/);
      assert.equal(k.token_id, k.token);
      assert.equal(k.key_name, `sk-...${k.key.slice(-4)}`);
      assert.equal(k.key_alias, 'staging-pipeline');
      assert.deepEqual(k.models, ['gpt-fast', 'gpt4o-pool']);
      assert.equal(k.max_budget, 5);
      assert.equal(k.budget_duration, '30d');
      assert.equal(k.tpm_limit, 100000);
      assert.equal(k.rpm_limit, 100);
      assert.equal(k.spend, 0);
      assert.equal(k.expires, null);
      assert.ok(Date.parse(k.budget_reset_at) > Date.now() + 29 * 86400e3, k.budget_reset_at);
      const oa = client(`${gw.url}/v1`, k.key);
      const { data, response } = await oa.chat.completions.create(chatBody('gpt-fast')).withResponse();
      assert.equal(data.model, 'gpt-fast');
      const cost = Number(response.headers.get('x-litellm-response-cost'));
      const u = data.usage;
      assert.ok(Math.abs(cost - (u.prompt_tokens * IN_PRICE + u.completion_tokens * OUT_PRICE)) < 1e-12, `cost ${cost}`);
      // /key/info by the key itself shows its spend.
      const info = await get(`${gw.url}/key/info`, { key: k.key });
      assert.equal(info.status, 200, info.text);
      assert.ok(Math.abs(info.json.info.spend - cost) < 1e-12, info.text);
      // Numbers are written as LiteLLM writes them (0.25, 0.0), never Boost.JSON's 2.5E-1.
      assert.match(info.text, /"max_budget":\s*[0-9]+\.[0-9]+[,}]/, info.text);
      assert.doesNotMatch(info.text, /[0-9]E[-+]?[0-9]/, info.text);
      assert.ok(!('token' in info.json.info), 'the token column is never returned by /key/info');
      // The same alias twice → 400, nothing written.
      const dup = await gen({ key_alias: 'staging-pipeline' });
      assertEnvelope(assert, dup, 400);
    });

    test('model not in the key list → 403 naming the allowed models', async () => {
      const { key } = (await gen({ models: ['gpt-fast'] })).json;
      const oa = client(`${gw.url}/v1`, key);
      await assert.rejects(oa.chat.completions.create(chatBody('claude-quality')), (err) => {
        assert.ok(err instanceof OpenAI.PermissionDeniedError, String(err));
        assert.equal(err.status, 403);
        assert.equal(err.error.type, 'key_model_access_denied');
        assert.match(err.error.message, /This key can only access models=\['gpt-fast'\]\. Tried to access claude-quality/);
        return true;
      });
      const all = (await gen({ models: ['all-proxy-models'] })).json.key;
      await client(`${gw.url}/v1`, all).chat.completions.create(chatBody('claude-quality'));
    });

    test('budget exhausted → 429 budget_exceeded', async () => {
      const { key } = (await gen({ max_budget: 0.000001 })).json;
      const oa = client(`${gw.url}/v1`, key);
      await oa.chat.completions.create(chatBody('gpt-fast'));  // spend 0 < budget: admitted
      await assert.rejects(oa.chat.completions.create(chatBody('gpt-fast')), (err) => {
        assert.equal(err.status, 429);
        assert.equal(err.error.type, 'budget_exceeded');
        assert.match(err.error.message, /^Budget has been exceeded! Current cost: /);
        return true;
      });
      const zero = (await gen({ max_budget: 0 })).json.key;
      const r = await post(`${gw.url}/v1/chat/completions`, chatBody('gpt-fast'), { key: zero });
      assertEnvelope(assert, r, 429);
    });

    test('expired key → 401 expired_key', async () => {
      const { key, expires } = (await gen({ duration: '1s' })).json;
      assert.ok(expires);
      await new Promise((res) => setTimeout(res, 2100));
      const r = await post(`${gw.url}/v1/chat/completions`, chatBody('gpt-fast'), { key });
      const e = assertEnvelope(assert, r, 401);
      assert.equal(e.type, 'expired_key');
      assert.match(e.message, /^Authentication Error - Expired Key/);
    });

    test('block / unblock, then delete → 401', async () => {
      const { key, token } = (await gen({})).json;
      const call = () => post(`${gw.url}/v1/chat/completions`, chatBody('gpt-fast'), { key });
      assert.equal((await call()).status, 200);
      const b = await post(`${gw.url}/key/block`, { key });
      assert.equal(b.status, 200, b.text);
      assert.equal(b.json.blocked, true);
      assert.equal(assertEnvelope(assert, await call(), 401).message, 'Authentication Error, Key is blocked.');
      assert.equal((await post(`${gw.url}/key/unblock`, { key: token })).status, 200);
      assert.equal((await call()).status, 200);
      const d = await post(`${gw.url}/key/delete`, { keys: [key] });
      assert.equal(d.status, 200, d.text);
      assert.deepEqual(d.json.deleted_keys, [key]);
      assertEnvelope(assert, await call(), 401);
      assertEnvelope(assert, await post(`${gw.url}/key/delete`, { keys: [key] }), 404);
    });

    test('bad input → clear 4xx and no change; unknown fields named in x-litellm-warning', async () => {
      const before = (await get(`${gw.url}/key/list?size=100`)).json.total_count;
      const cases = [
        [{ max_budget: -1 }, 'max_budget'], [{ max_budget: '5' }, 'max_budget'],
        [{ rpm_limit: 1.5 }, 'rpm_limit'], [{ tpm_limit: -3 }, 'tpm_limit'],
        [{ budget_duration: '30x' }, 'budget_duration'], [{ duration: 'tomorrow' }, 'duration'],
        [{ models: 'gpt-fast' }, 'models'], [{ metadata: [] }, 'metadata'],
        [{ key: 'sk-short' }, 'key'], [{ key_type: 'root' }, 'key_type'],
        [{ duration: '100000d' }, 'duration'], [{ budget_duration: '99999w' }, 'budget_duration'],
        [{ rpm_limit: 1e30 }, 'rpm_limit'], [{ max_parallel_requests: 2 ** 63 }, 'max_parallel_requests'],
        [{ key_alias: 'a\u0001b' }, 'key_alias'], [{ models: ['ok', 'x\ny'] }, 'models'],
        [{ user_id: 'u\u007f' }, 'user_id'],
      ];
      for (const [body, field] of cases) {
        const r = await gen(body);
        const e = assertEnvelope(assert, r, 400);
        assert.equal(e.param, field, r.text);
        assert.equal(e.type, 'invalid_request_error');
        assert.ok(e.message.startsWith(`Invalid value for ${field}: `), e.message);
      }
      assertEnvelope(assert, await post(`${gw.url}/key/generate`, 'not json'), 400);
      assert.equal(assertEnvelope(assert, await get(`${gw.url}/key/info?key=%zz`), 400).param, 'key');
      assertEnvelope(assert, await get(`${gw.url}/key/list?user_id=%4`), 400);
      assertEnvelope(assert, await get(`${gw.url}/key/list?key_alias=a%01b`), 400);
      assert.equal((await get(`${gw.url}/key/list?size=100`)).json.total_count, before, 'nothing written');
      // Unknown fields: ignored, named in the header.
      const w = await gen({ max_budjet: 5, key_alias: "robert'); DROP TABLE keys;--" });
      assert.equal(w.status, 200, w.text);
      assert.equal(w.headers.get('x-litellm-warning'), 'ignored unknown fields: max_budjet');
      assert.equal(w.json.key_alias, "robert'); DROP TABLE keys;--");
      assert.equal(w.json.max_budget, null);
      // A normal key may not manage keys, and may read only its own info.
      const other = (await gen({})).json;
      const r403 = await gen({}, w.json.key);
      assert.equal(assertEnvelope(assert, r403, 403).type, 'auth_error');
      const own = await get(`${gw.url}/key/info`, { key: w.json.key });
      assert.equal(own.status, 200, own.text);
      assertEnvelope(assert, await get(`${gw.url}/key/info?key=${other.token}`, { key: w.json.key }), 403);
      assertEnvelope(assert, await get(`${gw.url}/key/info?key=${'0'.repeat(64)}`), 404);
      assertEnvelope(assert, await get(`${gw.url}/spend/logs`, { key: w.json.key }), 403);
    });

    test('/key/list pages keys created in the same second without repeats or gaps', async () => {
      const made = [];
      for (let i = 0; i < 6; i++) made.push((await gen({ user_id: 'same-second' })).json.token);
      for (const order of ['desc', 'asc']) {
        const seen = [];
        for (let page = 1; page <= 6; page++) {
          const r = await get(`${gw.url}/key/list?user_id=same-second&size=1&page=${page}&sort_order=${order}`);
          assert.equal(r.status, 200, r.text);
          seen.push(...r.json.keys);
        }
        assert.deepEqual([...seen].sort(), [...made].sort(), order);
      }
    });

    test('key update: null clears, absent unchanged, metadata replaced', async () => {
      const { key } = (await gen({ max_budget: 1, rpm_limit: 5, metadata: { a: 1 } })).json;
      const r = await post(`${gw.url}/key/update`, { key, max_budget: null, metadata: { b: 2 }, models: ['gpt-fast'] });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.max_budget, null);
      assert.equal(r.json.rpm_limit, 5);
      assert.deepEqual(r.json.metadata, { b: 2 });
      const denied = await post(`${gw.url}/v1/chat/completions`, chatBody('gpt4o-pool'), { key });
      assertEnvelope(assert, denied, 403);
      assertEnvelope(assert, await post(`${gw.url}/key/update`, { key: 'sk-unknownkeyunknownkey123', max_budget: 1 }), 404);
    });

    test('management writes reach enforcement at once: spend reset, budget_duration, regenerate', async () => {
      const { key } = (await gen({ max_budget: 0.000001, budget_duration: '30d' })).json;
      const call = (k) => post(`${gw.url}/v1/chat/completions`, chatBody('gpt-fast'), { key: k });
      assert.equal((await call(key)).status, 200);
      assertEnvelope(assert, await call(key), 429);
      const u = await post(`${gw.url}/key/update`, { key, spend: 0 });
      assert.equal(u.status, 200, u.text);
      assert.equal((await call(key)).status, 200, 'spend reset by /key/update applies at once');
      const d = await post(`${gw.url}/key/update`, { key, budget_duration: '1h' });
      assert.ok(Date.parse(d.json.budget_reset_at) < Date.now() + 3600e3 + 5e3, d.text);
      const info = await get(`${gw.url}/key/info?key=${key}`);
      assert.equal(info.json.info.budget_reset_at, d.json.budget_reset_at, 'the live reset time is the new one');
      const r = await post(`${gw.url}/key/regenerate`, { key });
      assert.equal(r.status, 200, r.text);
      assertEnvelope(assert, await call(key), 401);
      assert.equal(assertEnvelope(assert, await call(r.json.key), 429).type, 'budget_exceeded',
        'the regenerated key keeps its spent budget');
      const after = await get(`${gw.url}/key/info?key=${r.json.key}`);
      assert.ok(after.json.info.spend > 0, after.text);
    });

    test('only spec fields are written; a rejected multi-row create writes nothing', async () => {
      const { key } = (await gen({})).json;
      const call = () => post(`${gw.url}/v1/chat/completions`, chatBody('gpt-fast'), { key });
      const u = await post(`${gw.url}/key/update`, { key, expires: '2000-01-01T00:00:00Z', token: 'x' });
      assert.equal(u.status, 200, u.text);
      assert.equal(u.headers.get('x-litellm-warning'), 'ignored unknown fields: expires,token');
      assert.equal(u.json.expires, null);
      assert.equal((await call()).status, 200, 'an ignored field must not expire the key');
      const t = await post(`${gw.url}/team/new`, { team_alias: 'spec-only' });
      assert.equal(t.status, 200, t.text);
      const tid = t.json.team_id;
      const tu = await post(`${gw.url}/team/update`, { team_id: tid, spend: 'abc', budget_reset_at: 'never' });
      assert.equal(tu.status, 200, tu.text);
      assert.equal(tu.headers.get('x-litellm-warning'), 'ignored unknown fields: spend,budget_reset_at');
      const ti = await get(`${gw.url}/team/info?team_id=${tid}`);
      assert.equal(ti.status, 200, ti.text);
      assert.equal(ti.json.team_info.spend, 0);
      const bad = await post(`${gw.url}/team/new`, { team_alias: 'half',
        members_with_roles: [{ user_id: 'tx-first', role: 'user' }, { user_id: 'tx-second', role: 'owner' }] });
      assertEnvelope(assert, bad, 400);
      assertEnvelope(assert, await get(`${gw.url}/user/info?user_id=tx-first`), 404);
      const teams = (await get(`${gw.url}/team/list`)).json;
      assert.ok(!teams.some((x) => x.team_alias === 'half'), 'no team written');
    });

    test('users, teams, customers: create, roll-up, team model list, delete', async () => {
      const u = await post(`${gw.url}/user/new`, { user_id: 'alice', max_budget: 10, user_role: 'internal_user' });
      assert.equal(u.status, 200, u.text);
      assert.match(u.json.key, /^sk-/);
      assertEnvelope(assert, await post(`${gw.url}/user/new`, { user_id: 'alice' }), 409);
      const t = await post(`${gw.url}/team/new`, { team_alias: 'research', models: ['gpt-fast'],
        members_with_roles: [{ role: 'user', user_id: 'alice' }] });
      assert.equal(t.status, 200, t.text);
      const teamId = t.json.team_id;
      assert.ok(t.json.members_with_roles.some((m) => m.user_id === 'alice'));
      const tk = (await gen({ team_id: teamId, user_id: 'alice' })).json.key;
      const r = await post(`${gw.url}/v1/chat/completions`, chatBody('gpt-fast'), { key: tk });
      assert.equal(r.status, 200, r.text);
      const cost = Number(r.headers.get('x-litellm-response-cost'));
      const denied = await post(`${gw.url}/v1/chat/completions`, chatBody('gpt4o-pool'), { key: tk });
      assert.equal(assertEnvelope(assert, denied, 403).type, 'team_model_access_denied');
      const ti = await get(`${gw.url}/team/info?team_id=${teamId}`);
      assert.equal(ti.status, 200, ti.text);
      assert.ok(Math.abs(ti.json.team_info.spend - cost) < 1e-12,
        `cost header ${r.headers.get('x-litellm-response-cost')} vs team spend: ${ti.text}`);
      const ui = await get(`${gw.url}/user/info?user_id=alice`);
      assert.ok(Math.abs(ui.json.user_info.spend - cost) < 1e-12, ui.text);
      const c = await post(`${gw.url}/customer/new`, { user_id: 'cust-1', max_budget: 0 });
      assert.equal(c.status, 200, c.text);
      const cr = await post(`${gw.url}/v1/chat/completions`, chatBody('gpt-fast', { user: 'cust-1' }));
      assert.equal(assertEnvelope(assert, cr, 429).type, 'budget_exceeded', 'end-user budget applies to the master key');
      assert.equal((await post(`${gw.url}/team/member_delete`, { team_id: teamId, user_id: 'alice' })).status, 200);
      assertEnvelope(assert, await post(`${gw.url}/v1/chat/completions`, chatBody('gpt-fast'), { key: tk }), 401);
      assert.equal((await post(`${gw.url}/team/delete`, { team_ids: [teamId] })).status, 200);
      assert.equal((await post(`${gw.url}/user/delete`, { user_ids: ['alice'] })).status, 200);
      assertEnvelope(assert, await post(`${gw.url}/v1/chat/completions`, chatBody('gpt-fast'), { key: u.json.key }), 401);
    });

    test('ledger rows and /spend/logs totals equal the sum of x-litellm-response-cost', async () => {
      const { key, token } = (await gen({})).json;
      let sum = 0;
      for (let i = 0; i < 5; i++) {
        const r = await post(`${gw.url}/v1/chat/completions`, chatBody('gpt-fast', { messages: [{ role: 'user', content: 'x'.repeat(40 * (i + 1)) }] }), { key });
        assert.equal(r.status, 200, r.text);
        sum += Number(r.headers.get('x-litellm-response-cost'));
      }
      const logs = await get(`${gw.url}/spend/logs?api_key=${key}`);
      assert.equal(logs.status, 200, logs.text);
      assert.equal(logs.json.length, 5);
      const total = logs.json.reduce((a, r) => a + r.spend, 0);
      assert.ok(Math.abs(total - sum) < 1e-12, `${total} vs ${sum}`);
      for (const row of logs.json) {
        assert.equal(row.api_key, token);
        assert.equal(row.model_group, 'gpt-fast');
        assert.equal(row.status, 'success');
        assert.match(row.response_id, /^chatcmpl-/);
      }
      const byId = await get(`${gw.url}/spend/logs?request_id=${logs.json[0].request_id}`);
      assert.equal(byId.json.length, 1);
      const global = await get(`${gw.url}/global/spend`);
      assert.ok(global.json.spend >= sum - 1e-12, global.text);
      const today = new Date().toISOString().slice(0, 10);
      const report = await get(`${gw.url}/global/spend/report?start_date=${today}&end_date=${today}`);
      assert.equal(report.status, 200, report.text);
      assert.equal(report.json[0].group_by_day, today);
    });

    test('a client reusing x-litellm-call-id cannot erase its spend rows (ledger ids are the server\'s)', async () => {
      const { key } = (await gen({})).json;
      let sum = 0;
      for (let i = 0; i < 5; i++) {
        const r = await post(`${gw.url}/v1/chat/completions`, chatBody('gpt-fast'),
          { key, headers: { 'x-litellm-call-id': i % 2 ? 'reused-a' : 'reused-b' } });
        assert.equal(r.status, 200, r.text);
        sum += Number(r.headers.get('x-litellm-response-cost'));
      }
      const logs = await get(`${gw.url}/spend/logs?api_key=${key}`);
      assert.equal(logs.json.length, 5, logs.text);
      const byCall = await get(`${gw.url}/spend/logs?request_id=reused-a`);
      assert.equal(byCall.json.length, 2, byCall.text);
      const byResponse = await get(`${gw.url}/spend/logs?request_id=${logs.json[0].response_id}`);
      assert.equal(byResponse.json.length, 1, byResponse.text);
      assert.ok(!('ledger_id' in logs.json[0]), 'ledger_id stays internal');
      // After a restart the key's spend comes from the store: every row counted.
      await gw.stop();
      gw = await start();
      const info = await get(`${gw.url}/key/info?key=${key}`);
      assert.ok(Math.abs(info.json.info.spend - sum) < 1e-12, `key spend ${info.json.info.spend} vs ${sum}`);
    });

    test('a spend WAL directory that cannot be created → the gateway refuses to start', async () => {
      const blocker = path.join(dir, 'not-a-directory');
      writeFileSync(blocker, 'x');
      await assert.rejects(
        Gateway.start(config() + `  spend_wal_dir: ${path.join(blocker, 'wal')}\n`,
          { env, args: ['--db', path.join(dir, 'other.db')] }),
        (err) => {
          assert.match(err.message, /exited \(code [1-9]/, err.message);
          assert.match(err.message, /spend_wal_dir/, err.message);
          return true;
        });
    });

    for (const signal of ['SIGTERM', 'SIGKILL']) {
      test(`${signal} during load loses no acknowledged row`, async () => {
        const { key } = (await gen({})).json;
        let acked = 0;
        let stop = false;
        const worker = async () => {
          while (!stop) {
            try {
              const r = await post(`${gw.url}/v1/chat/completions`, chatBody('gpt-fast'), { key });
              if (r.status === 200) acked++;
            } catch { return; }
          }
        };
        const workers = [worker(), worker(), worker(), worker()];
        while (acked < 40) await new Promise((res) => setTimeout(res, 5));
        gw.child.kill(signal);
        stop = true;
        await gw.exited();
        await Promise.all(workers);
        gw = await start();
        const logs = await get(`${gw.url}/spend/logs?api_key=${key}&page_size=1000`);
        assert.equal(logs.status, 200, logs.text);
        assert.ok(logs.json.length >= acked, `rows ${logs.json.length} < acknowledged ${acked}`);
        const info = await get(`${gw.url}/key/info?key=${key}`);
        const total = logs.json.reduce((a, r) => a + r.spend, 0);
        assert.ok(Math.abs(info.json.info.spend - total) < 1e-9, `key spend ${info.json.info.spend} vs rows ${total}`);
      });
    }
  });
}

describe('stream billing', () => {
  let mock;
  let gw;
  before(async () => {
    mock = await Mock.start();
    gw = await Gateway.start(`
model_list:
  - model_name: gpt-fast
    litellm_params: {model: openai/gpt-4o-mini, api_base: ${mock.base('fast')}, api_key: sk-up-1,
                     input_cost_per_token: ${IN_PRICE}, output_cost_per_token: ${OUT_PRICE}}
general_settings:
  master_key: ${MASTER_KEY}
`, { env: { DATABASE_URL: undefined } });
  });
  after(async () => {
    if (gw) await gw.stop();
    if (mock) await mock.stop();
  });

  test('a stream is billed from the usage the gateway asked for, and the client sees no usage chunk', async () => {
    const { key } = (await post(`${gw.url}/key/generate`, {})).json;
    const oa = client(`${gw.url}/v1`, key);
    const stream = await oa.chat.completions.create(chatBody('gpt-fast', { stream: true }));
    let sawUsage = false;
    for await (const chunk of stream) if (chunk.usage) sawUsage = true;
    assert.equal(sawUsage, false, 'the client did not ask for usage');
    const reqs = await mock.requests('fast');
    assert.equal(reqs.at(-1).body_json.stream_options.include_usage, true);
    const logs = await get(`${gw.url}/spend/logs?api_key=${key}`);
    assert.equal(logs.json.length, 1);
    assert.ok(logs.json[0].completion_tokens > 0, logs.text);
    assert.ok(logs.json[0].spend > 0, logs.text);
    // A client that asks for usage still gets it.
    const withUsage = await oa.chat.completions.create(chatBody('gpt-fast', { stream: true, stream_options: { include_usage: true } }));
    let usage = null;
    for await (const chunk of withUsage) if (chunk.usage) usage = chunk.usage;
    assert.ok(usage && usage.completion_tokens > 0);
  });
});
