// Small helpers shared by the e2e tests: raw HTTP calls, SSE parsing with arrival times, bounded
// polling of the mock's counters, and a closed port for connection-refused cases.
import net from 'node:net';
import OpenAI from 'openai';
import { MASTER_KEY } from './harness.js';

export const MOCK_DEFAULT_CONTENT = 'Hello! This is the mock upstream.';

export function client(baseURL, apiKey = MASTER_KEY, opts = {}) {
  return new OpenAI({ apiKey, baseURL, maxRetries: 0, timeout: 20000, ...opts });
}

export function chatBody(model, extra = {}) {
  return { model, messages: [{ role: 'user', content: 'hi' }], ...extra };
}

// POST JSON (or a raw string) to the gateway. Returns {status, headers, text, json}.
export async function post(url, body, { key = MASTER_KEY, headers = {}, signal } = {}) {
  const h = { 'content-type': 'application/json', ...headers };
  if (key) h.authorization = `Bearer ${key}`;
  const r = await fetchOrExplain(url, {
    method: 'POST', headers: h, body: typeof body === 'string' ? body : JSON.stringify(body), signal,
  });
  return readResponse(r);
}

export async function get(url, { key = MASTER_KEY, headers = {} } = {}) {
  const h = { ...headers };
  if (key) h.authorization = `Bearer ${key}`;
  return readResponse(await fetchOrExplain(url, { headers: h }));
}

// fetch() whose "fetch failed" error names the underlying cause (reset, refused, closed...).
export async function fetchOrExplain(url, init) {
  try {
    return await fetch(url, init);
  } catch (e) {
    if (e.name === 'AbortError' || !e.cause) throw e;
    const c = e.cause;
    const err = new Error(`${init?.method || 'GET'} ${url}: ${e.message}: ${c.code || ''} ${c.message || c}`);
    err.cause = c;
    throw err;
  }
}

export async function readResponse(r) {
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, text, json };
}

// Asserts the OpenAI error envelope {"error":{"message","type","param","code":"<status>"}}.
export function assertEnvelope(assert, res, status) {
  assert.equal(res.status, status, `status; body: ${res.text}`);
  assert.ok(res.json && typeof res.json.error === 'object', `error envelope expected, got: ${res.text}`);
  const e = res.json.error;
  assert.equal(typeof e.message, 'string', `error.message; body: ${res.text}`);
  assert.ok(e.message.length > 0, 'error.message not empty');
  assert.equal(typeof e.type, 'string', `error.type; body: ${res.text}`);
  assert.ok('param' in e, `error.param present; body: ${res.text}`);
  assert.ok(e.param === null || typeof e.param === 'string', 'error.param string or null');
  assert.notEqual(e.param, 'None');
  assert.equal(e.code, String(status), `error.code is the status as a string; body: ${res.text}`);
  return e;
}

// Streams a POST and splits the body into SSE events as they arrive.
// Returns {status, headers, raw, events:[{data, at}], t0, end, error} (at/end in ms since t0).
// fresh: send `connection: close` so the connection is not pooled for later requests (used for
// streams that end with an error, after which the gateway may close the connection; the
// keep-alive test in streaming.test.js checks that behaviour on its own).
export async function streamRaw(url, body, { key = MASTER_KEY, headers = {}, signal, onEvent, fresh = false } = {}) {
  const h = { 'content-type': 'application/json', ...(fresh ? { connection: 'close' } : {}), ...headers };
  if (key) h.authorization = `Bearer ${key}`;
  const t0 = performance.now();
  const r = await fetchOrExplain(url, { method: 'POST', headers: h, body: JSON.stringify(body), signal });
  const out = { status: r.status, headers: r.headers, raw: '', events: [], t0, headersAt: performance.now() - t0 };
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const chunk of r.body) {
      const at = performance.now() - t0;
      const s = decoder.decode(chunk, { stream: true });
      out.raw += s;
      buf += s;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).replace(/^ /, '')).join('\n');
        const ev = { data, block, at };
        out.events.push(ev);
        if (onEvent) onEvent(ev, out);
      }
    }
  } catch (e) {
    out.error = e;
  }
  out.rest = buf;
  out.end = performance.now() - t0;
  return out;
}

export function parseData(ev) {
  try { return JSON.parse(ev.data); } catch { return undefined; }
}

// Long-polls the mock's stats until stats[counter] >= min (bounded by timeoutMs).
export async function waitStat(mock, counter, min, timeoutMs = 5000) {
  const r = await fetch(`${mock.url}/__mock/stats?wait=${counter}&min=${min}&timeout_ms=${timeoutMs}`);
  return r.json();
}

// A loopback port with nothing listening on it.
export async function closedPort() {
  const srv = net.createServer();
  await new Promise((res) => srv.listen(0, '127.0.0.1', res));
  const { port } = srv.address();
  await new Promise((res) => srv.close(res));
  return port;
}

// Attempts a TCP connection; resolves 'connected' or the error code (e.g. 'ECONNREFUSED').
export function tryConnect(port, host = '127.0.0.1', timeoutMs = 1000) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    const t = setTimeout(() => { s.destroy(); resolve('timeout'); }, timeoutMs);
    s.once('connect', () => { clearTimeout(t); s.destroy(); resolve('connected'); });
    s.once('error', (e) => { clearTimeout(t); resolve(e.code || String(e)); });
  });
}

// Sends HTTP/1.1 requests one after the other on ONE keep-alive TCP connection, each only after
// the previous response was read completely. Returns [{status, headers, body}] for the responses
// received; if the server closes the connection instead of answering, the entry is
// {closed: true, error} and the remaining requests are not sent.
// requests: [{method, path, headers, body}]
export function sameConnection(port, requests, { timeoutMs = 10000 } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    const results = [];
    let buf = Buffer.alloc(0);
    let idx = -1;
    let finished = false;
    const timer = setTimeout(() => finish({ closed: true, error: 'timeout' }), timeoutMs);
    function finish(last) {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (last) results.push(last);
      sock.destroy();
      resolve(results);
    }
    function sendNext() {
      idx += 1;
      if (idx >= requests.length) { finish(); return; }
      const r = requests[idx];
      const body = r.body === undefined ? '' : (typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
      const head = [`${r.method || 'GET'} ${r.path} HTTP/1.1`, `host: 127.0.0.1:${port}`,
        `content-length: ${Buffer.byteLength(body)}`,
        ...Object.entries(r.headers || {}).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
      sock.write(head + body);
    }
    // Returns a parsed response if buf holds a complete one (and consumes it), else null.
    function tryParse() {
      const he = buf.indexOf('\r\n\r\n');
      if (he < 0) return null;
      const lines = buf.subarray(0, he).toString('latin1').split('\r\n');
      const status = Number(lines[0].split(' ')[1]);
      const headers = {};
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':');
        headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
      }
      let pos = he + 4;
      let body;
      if (/chunked/i.test(headers['transfer-encoding'] || '')) {
        const parts = [];
        for (;;) {
          const le = buf.indexOf('\r\n', pos);
          if (le < 0) return null;
          const size = parseInt(buf.subarray(pos, le).toString('latin1'), 16);
          if (buf.length < le + 2 + size + 2) return null;
          parts.push(buf.subarray(le + 2, le + 2 + size));
          pos = le + 2 + size + 2;
          if (size === 0) break;
        }
        body = Buffer.concat(parts).toString('utf8');
      } else {
        const n = Number(headers['content-length'] || 0);
        if (buf.length < pos + n) return null;
        body = buf.subarray(pos, pos + n).toString('utf8');
        pos += n;
      }
      buf = buf.subarray(pos);
      return { status, headers, body };
    }
    sock.on('connect', sendNext);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const res = tryParse();
      if (res) {
        results.push(res);
        if (/close/i.test(res.headers.connection || '')) { finish(); return; }
        sendNext();
      }
    });
    sock.on('end', () => finish({ closed: true, error: 'connection closed by the server' }));
    sock.on('error', (e) => finish({ closed: true, error: e.code || e.message }));
  });
}
