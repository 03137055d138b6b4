// Spend-log rows: a stream the client leaves mid-way is still billed; and
// general_settings.disable_spend_logs: calls that cost nothing write no spend-log row; calls with a
// cost are still journaled, because their row carries the budget increments exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Mock, Gateway, MASTER_KEY } from '../lib/harness.js';
import { chatBody, post, get, streamRaw } from '../lib/util.js';

let mock;
let dir;

before(async () => {
  mock = await Mock.start();
  dir = mkdtempSync(path.join(tmpdir(), 'sy-nologs-'));
});

after(async () => {
  if (mock) await mock.stop();
  rmSync(dir, { recursive: true, force: true });
});

const config = (disable) => `
model_list:
  - model_name: free
    litellm_params: {model: openai/local-free, api_base: ${mock.base('free')}, api_key: sk-up-f,
                     input_cost_per_token: 0, output_cost_per_token: 0}
  - model_name: paid
    litellm_params: {model: openai/local-paid, api_base: ${mock.base('paid')}, api_key: sk-up-p,
                     input_cost_per_token: 0.001, output_cost_per_token: 0.002}
general_settings:
  master_key: ${MASTER_KEY}
  disable_spend_logs: ${disable}
`;

async function rowsAfterRestart(disable, name) {
  const db = path.join(dir, `${name}.db`);
  let gw = await Gateway.start(config(disable), { env: { DATABASE_URL: undefined }, args: ['--db', db] });
  try {
    assert.equal((await post(`${gw.url}/v1/chat/completions`, chatBody('free'))).status, 200);
    const paid = await post(`${gw.url}/v1/chat/completions`, chatBody('paid'));
    assert.equal(paid.status, 200);
    assert.ok(Number(paid.headers.get('x-litellm-response-cost')) > 0);
  } finally {
    await gw.stop();  // SIGTERM flushes the ledger
  }
  gw = await Gateway.start(config(disable), { env: { DATABASE_URL: undefined }, args: ['--db', db] });
  try {
    const r = await get(`${gw.url}/spend/logs`);
    assert.equal(r.status, 200, r.text);
    return r.json.map((row) => row.model_group).sort();
  } finally {
    await gw.stop();
  }
}

test('by default every call has a spend-log row', async () => {
  assert.deepEqual(await rowsAfterRestart(false, 'on'), ['free', 'paid']);
});

test('disable_spend_logs: only calls with a cost are journaled', async () => {
  assert.deepEqual(await rowsAfterRestart(true, 'off'), ['paid']);
});

test('a stream the client leaves mid-way is billed for what was used', async () => {
  const db = path.join(dir, 'cut.db');
  let gw = await Gateway.start(config(false), { env: { DATABASE_URL: undefined }, args: ['--db', db] });
  try {
    // 50 chunks, 30 ms apart: the client leaves after 5 events, long before the usage chunk.
    await mock.script({ tag: 'paid', times: 1, directives: { chunks: 50, inter_chunk_ms: 30 } });
    const ac = new AbortController();
    const r = await streamRaw(`${gw.url}/v1/chat/completions`, chatBody('paid', { stream: true }), {
      signal: ac.signal,
      onEvent: (ev, out) => { if (out.events.length >= 5) ac.abort(); },
    });
    assert.equal(r.status, 200);
    assert.ok(r.events.length >= 5);
  } finally {
    await gw.stop();
  }
  gw = await Gateway.start(config(false), { env: { DATABASE_URL: undefined }, args: ['--db', db] });
  try {
    const rows = (await get(`${gw.url}/spend/logs`)).json;
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.ok(rows[0].completion_tokens >= 5, `completion tokens ${rows[0].completion_tokens}`);
    assert.ok(rows[0].completion_tokens < 50, 'only what was streamed before the client left');
    assert.ok(rows[0].spend > 0, `spend ${rows[0].spend}`);
  } finally {
    await gw.stop();
  }
});
