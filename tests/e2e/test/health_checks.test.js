// Active health checks (router.md §11, README D21): `/health?probe=true` for admins, and
// `background_health_checks` whose verdict steers selection away from an unhealthy deployment.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Mock, Gateway, MASTER_KEY } from '../lib/harness.js';
import { chatBody, post, get } from '../lib/util.js';

let mock;

before(async () => { mock = await Mock.start(); });
after(async () => { if (mock) await mock.stop(); });

// Polls `fn` until it returns a truthy value (bounded); no fixed sleeps.
async function until(fn, what, timeoutMs = 8000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('/health?probe=true probes each deployment with one cheap call and reports the verdicts', async () => {
  const gw = await Gateway.start(`
model_list:
  - model_name: pg
    litellm_params: {model: openai/gpt-4o, api_base: ${mock.base('pa')}, api_key: sk-up-a}
  - model_name: pg
    litellm_params: {model: openai/gpt-4o, api_base: ${mock.base('pb')}, api_key: sk-up-b}
    model_info: {id: dep-pb}
  - model_name: emb
    litellm_params: {model: openai/text-embedding-3-small, api_base: ${mock.base('pe')}, api_key: sk-up-e}
    model_info: {mode: embedding}
general_settings:
  master_key: ${MASTER_KEY}
`);
  try {
    // Plain /health never calls a provider.
    const passive = await get(`${gw.url}/health`);
    assert.equal(passive.status, 200);
    assert.equal((await mock.requests('pa')).length, 0);

    await mock.script({ tag: 'pb', times: 1, directives: { status: 500 } });
    const r = await get(`${gw.url}/health?probe=true`);
    assert.equal(r.status, 200, r.text);
    const all = [...r.json.healthy_endpoints, ...r.json.unhealthy_endpoints];
    const byId = Object.fromEntries(all.map((e) => [e.model_id, e]));
    assert.equal(byId['dep-pb'].probe.ok, false);
    assert.equal(byId['dep-pb'].probe.status, 500);
    assert.equal(byId['dep-pb'].health_check, 'unhealthy');
    assert.ok(r.json.unhealthy_endpoints.some((e) => e.model_id === 'dep-pb'));
    const a = all.find((e) => e.model_name === 'pg' && e.model_id !== 'dep-pb');
    assert.equal(a.probe.ok, true);
    assert.equal(a.health_check, 'healthy');

    // The probes were one-token chat calls and a one-input embedding call.
    const [pa] = await mock.requests('pa');
    assert.equal(pa.body_json.max_tokens, 1);
    assert.equal(pa.body_json.model, 'gpt-4o');
    const [pe] = await mock.requests('pe');
    assert.match(pe.path, /embeddings$/);
    assert.equal(pe.body_json.input, 'ping');

    // ?model= limits the probes to one group.
    const before = (await mock.requests('pe')).length;
    const only = await get(`${gw.url}/health?probe=true&model=pg`);
    assert.equal(only.status, 200);
    assert.equal((await mock.requests('pe')).length, before);
  } finally {
    await gw.stop();
  }
});

test('background health checks steer traffic away from a deployment that fails them', async () => {
  // Deployment "sick" fails every call; "well" answers. Probes run every 0.2 s.
  await mock.script({ tag: 'sick', times: 1000, directives: { status: 503 } });
  const gw = await Gateway.start(`
model_list:
  - model_name: bg
    litellm_params: {model: openai/gpt-4o, api_base: ${mock.base('sick')}, api_key: sk-up-s}
    model_info: {id: dep-sick}
  - model_name: bg
    litellm_params: {model: openai/gpt-4o, api_base: ${mock.base('well')}, api_key: sk-up-w}
    model_info: {id: dep-well}
router_settings:
  num_retries: 0
general_settings:
  master_key: ${MASTER_KEY}
  background_health_checks: true
  health_check_interval: 0.2
`);
  try {
    await until(async () => {
      const h = await get(`${gw.url}/health`);
      return h.json.unhealthy_endpoints.some((e) => e.model_id === 'dep-sick' && e.health_check === 'unhealthy');
    }, 'the background check to mark dep-sick unhealthy');
    const clientCalls = async () => (await mock.requests('sick')).filter((q) => q.body_json.max_tokens !== 1).length;
    const beforeCalls = await clientCalls();
    for (let i = 0; i < 10; i++) {
      const r = await post(`${gw.url}/v1/chat/completions`, chatBody('bg'));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('x-litellm-model-id'), 'dep-well');
    }
    assert.equal(await clientCalls(), beforeCalls, 'no client traffic to the unhealthy deployment');
  } finally {
    await gw.stop();
    await mock.reset();
  }
});
