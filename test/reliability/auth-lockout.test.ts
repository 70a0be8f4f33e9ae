// Bad tokens slow down. `shoal serve` refuses every page, API call and WebSocket upgrade without
// its token, and a client that keeps presenting wrong tokens is locked out (429 + Retry-After, even
// for the right token, doubling up to a cap) while other clients, the open UI socket, and cross-site
// browser requests are not. Real HTTP and WebSocket on loopback; each check uses its own source
// address (127.0.0.x) so the lockouts of one do not touch another.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { randomBytes } from 'node:crypto'
import WebSocket from 'ws'
import { tempDir, waitFor } from '../helpers/fixtures.ts'
import { openTestEngine } from '../helpers/engines.ts'
import { startServe, type Served } from '../e2e/harness.ts'
import { createHost } from '../../main/host/host.ts'
import { startServer } from '../../main/server/server.ts'
import { FailureLimiter, DEFAULT_LOCKOUT, addressBucket } from '../../main/server/auth.ts'
import { writeFigures } from './figures.ts'

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function httpReq (origin: string, path: string, o: { method?: string; headers?: Record<string, string>; from?: string; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${origin}${path}`, { method: o.method ?? 'GET', headers: o.headers ?? {}, ...(o.from ? { localAddress: o.from } : {}), agent: false }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => { body += d.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end(o.body)
  })
}

/** A WebSocket upgrade attempt: 101 when accepted (then closed), else the refusal's status. */
function upgrade (origin: string, query: string, o: { from?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${origin}/ws${query}`, {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64'), ...(o.headers ?? {}) },
      ...(o.from ? { localAddress: o.from } : {}),
      agent: false
    })
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' }) })
    req.on('response', (res) => { res.resume(); res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' })) })
    req.on('error', reject)
    req.end()
  })
}

async function openWs (origin: string, token: string, from: string): Promise<WebSocket> {
  const ws = new WebSocket(`${origin.replace('http', 'ws')}/ws?token=${encodeURIComponent(token)}`, { localAddress: from })
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject) })
  return ws
}

function wsCall (ws: WebSocket, call: string): Promise<Record<string, unknown>> {
  const id = randomBytes(6).toString('hex')
  return new Promise((resolve) => {
    const on = (data: WebSocket.RawData) => {
      const m = JSON.parse(String(data)) as Record<string, unknown>
      if (m.id !== id) return
      ws.off('message', on)
      resolve(m)
    }
    ws.on('message', on)
    ws.send(JSON.stringify({ id, call, args: {} }))
  })
}

const lines: string[] = []
let served: Served
const dir = tempDir('shoal-lockout-')
before(async () => { served = await startServe(dir.path) })
after(async () => {
  await served?.stop()
  dir.cleanup()
  writeFigures('auth-lockout', { title: 'Bad tokens slow down (shoal serve)', reportLines: lines })
})

const WRONG = 'wrong-token-' + 'x'.repeat(20)

test('without the token nothing is served: pages, assets, API, uploads, the WebSocket; a request with no token is not a guess', async () => {
  const from = '127.0.0.2'
  const o = served.origin
  const noToken: Array<Promise<Reply>> = []
  for (const path of ['/', '/index.html', '/assets/index.js', '/favicon.ico', '/api/upload?batch=b&path=x.txt', '/../../etc/passwd', '/ws']) {
    noToken.push(httpReq(o, path, { from }))
  }
  noToken.push(httpReq(o, '/api/upload?batch=b&path=x.txt', { method: 'PUT', body: 'data', from }))
  noToken.push(upgrade(o, '', { from }))
  // Twenty requests without any token: all 401, never a lockout (nothing was guessed).
  for (let i = 0; i < 20; i++) noToken.push(httpReq(o, '/', { from }))
  for (const r of await Promise.all(noToken)) {
    assert.equal(r.status, 401)
    assert.doesNotMatch(r.body, /<html|<script|infoHash|listeningPort/i)
  }
  // Wrong tokens in each place a token can be: query, bearer header, cookie, WebSocket query.
  const from2 = '127.0.0.3'
  const wrong = [
    await httpReq(o, `/?token=${WRONG}`, { from: from2 }),
    await httpReq(o, '/api/upload?batch=b&path=y.txt', { method: 'PUT', body: 'x', headers: { authorization: `Bearer ${WRONG}` }, from: from2 }),
    await httpReq(o, '/index.html', { headers: { cookie: `shoal_token=${WRONG}` }, from: from2 }),
    await upgrade(o, `?token=${WRONG}`, { from: from2 })
  ]
  assert.deepEqual(wrong.map((r) => r.status), [401, 401, 401, 401])
  // The right token from both addresses still works: 4 wrong ones are under the limit.
  assert.equal((await httpReq(o, `/?token=${served.token}`, { from })).status, 200)
  assert.equal((await upgrade(o, `?token=${encodeURIComponent(served.token)}`, { from: from2 })).status, 101)
  lines.push(`without the token: ${noToken.length} requests (pages, assets, upload GET/PUT, /ws, WebSocket upgrade) all 401 with no data; requests with no token at all never lock out`)
})

/** A server in this process over a real engine, with its own lockout settings. */
async function withServer (lockout: Parameters<typeof startServer>[0]['lockout'], fn: (origin: string, token: string) => Promise<void>): Promise<void> {
  const d = tempDir('shoal-lockout-inproc-')
  const engine = await openTestEngine({ dataDir: d.path })
  const token = randomBytes(24).toString('base64url')
  const server = await startServer({
    host: createHost({ engine, transport: 'websocket', version: '0.0.0-test' }),
    token,
    rendererDir: d.path,
    uploadRoot: () => d.path,
    bind: { host: '127.0.0.1', port: 0 },
    lockout
  })
  try { await fn(`http://127.0.0.1:${server.port}`, token) } finally {
    await server.close()
    await engine.close()
    d.cleanup()
  }
}

/** Polls without a token (not a guess, so it never extends anything) until the address is no longer locked out. */
const lockEnds = (o: string, from: string) => waitFor('the lockout to end', async () => (await httpReq(o, '/', { from })).status === 401, 60_000, 100)

test('shoal serve: repeated wrong tokens from one address get 429 + Retry-After, doubling, even for the right token; other addresses and the open UI socket are unaffected; the right token works after the lockout', async () => {
  const from = '127.0.0.4'
  const o = served.origin
  // The UI's socket, opened before the attack, from the same address.
  const ui = await openWs(o, served.token, from)
  const statuses: number[] = []
  for (let i = 0; i < DEFAULT_LOCKOUT.freeFailures; i++) statuses.push((await httpReq(o, `/?token=${WRONG}${i}`, { from })).status)
  assert.deepEqual(statuses, Array(DEFAULT_LOCKOUT.freeFailures).fill(401))
  // Two more lockouts (1 s, 2 s) so the one checked below (4 s) leaves time to check it on a busy machine.
  for (let i = 0; i < 2; i++) {
    await lockEnds(o, from)
    assert.equal((await httpReq(o, `/?token=${WRONG}`, { from })).status, 401)
  }
  const locked = await Promise.all([
    httpReq(o, `/?token=${WRONG}`, { from }),
    httpReq(o, `/?token=${served.token}`, { from }),
    httpReq(o, '/', { headers: { authorization: `Bearer ${served.token}` }, from }),
    upgrade(o, `?token=${encodeURIComponent(served.token)}`, { from })
  ])
  for (const r of locked) {
    assert.equal(r.status, 429)
    assert.ok(Number(r.headers['retry-after']) >= 1, `Retry-After ${String(r.headers['retry-after'])}`)
    assert.doesNotMatch(r.body, /<html|<script/i)
  }
  lines.push(`shoal serve defaults: ${DEFAULT_LOCKOUT.freeFailures} wrong tokens answered 401, then lockouts of 1, 2, 4 s (doubling to ${DEFAULT_LOCKOUT.maxMs / 1000} s): 429 with Retry-After ${String(locked[1]!.headers['retry-after'])} for every request from that address, the right token included (HTTP and WebSocket upgrade)`)
  // Others: another address with the right token, and the socket already open.
  assert.equal((await httpReq(o, `/?token=${served.token}`, { from: '127.0.0.1' })).status, 200)
  assert.equal(typeof (await wsCall(ui, 'stats.get')).result, 'object')
  ui.close()
  await lockEnds(o, from)
  assert.equal((await httpReq(o, `/?token=${served.token}`, { from })).status, 200)
  assert.equal((await upgrade(o, `?token=${encodeURIComponent(served.token)}`, { from })).status, 101)
  // Success cleared the count: the next wrong ones are plain 401s again.
  for (let i = 0; i < DEFAULT_LOCKOUT.freeFailures - 1; i++) assert.equal((await httpReq(o, `/?token=${WRONG}`, { from })).status, 401)
  assert.equal((await httpReq(o, `/?token=${served.token}`, { from })).status, 200)
  lines.push('other addresses and the UI socket already open on the locked address kept working; after the lockout the right token worked again and cleared the count')
})

test('a web page cannot lock out the UI: cross-site wrong tokens lock only cross-site requests (long lockout, real engine)', async () => {
  await withServer({ freeFailures: 3, baseMs: 10 * 60_000, maxMs: 10 * 60_000 }, async (o, token) => {
    const from = '127.0.0.5'
    const cross = { 'sec-fetch-site': 'cross-site' }
    for (let i = 0; i < 3; i++) assert.equal((await httpReq(o, `/?token=${WRONG}`, { from, headers: cross })).status, 401)
    const r = await httpReq(o, `/?token=${token}`, { from, headers: cross })
    assert.equal(r.status, 429)
    assert.equal(r.headers['retry-after'], '600')
    assert.equal((await upgrade(o, `?token=${token}`, { from, headers: { ...cross, origin: 'https://evil.example' } })).status, 403, 'a cross-origin socket is refused anyway')
    // The user's own navigation (Sec-Fetch-Site: none), the page's requests (same-origin) and its socket get in.
    assert.equal((await httpReq(o, `/?token=${token}`, { from, headers: { 'sec-fetch-site': 'none' } })).status, 404, 'past the token check (no renderer here)')
    assert.equal((await httpReq(o, '/', { from, headers: { 'sec-fetch-site': 'same-origin', cookie: `shoal_token=${token}` } })).status, 404)
    assert.equal((await upgrade(o, `?token=${token}`, { from })).status, 101)
    // A direct client on another address that guesses is locked out by itself.
    const other = '127.0.0.7'
    for (let i = 0; i < 3; i++) assert.equal((await httpReq(o, `/?token=${WRONG}`, { from: other })).status, 401)
    assert.equal((await httpReq(o, `/?token=${token}`, { from: other })).status, 429)
    assert.equal((await upgrade(o, `?token=${token}`, { from: other })).status, 429)
    assert.equal((await upgrade(o, `?token=${token}`, { from })).status, 101)
  })
  lines.push('a cross-site page presenting wrong tokens locked out only cross-site requests; the user\'s own navigation, the page and its socket still got in')
})

test('short configured window, real engine: the lockout doubles up to its cap, refuses the right token meanwhile, and ends', async () => {
  await withServer({ freeFailures: 3, baseMs: 1500, maxMs: 3000 }, async (o, token) => {
    const from = '127.0.0.6'
    const seen: string[] = []
    for (let i = 0; i < 2; i++) assert.equal((await httpReq(o, `/?token=${WRONG}`, { from })).status, 401)
    for (let round = 0; round < 3; round++) {
      // The failure that starts this lockout...
      assert.equal((await httpReq(o, `/api/x?token=${WRONG}`, { from })).status, 401)
      // ...then the right token is refused until it ends.
      const [locked, ws] = await Promise.all([httpReq(o, `/?token=${token}`, { from }), upgrade(o, `?token=${token}`, { from })])
      assert.equal(locked.status, 429)
      assert.equal(ws.status, 429)
      seen.push(`Retry-After ${String(locked.headers['retry-after'])}`)
      await lockEnds(o, from)
    }
    // The right token after the last lockout: accepted, and a call over the WebSocket answers.
    const ws = await openWs(o, token, from)
    assert.equal(typeof (await wsCall(ws, 'torrents.list')).result, 'object')
    ws.close()
    lines.push(`short window (3 free, 1.5 s doubling to 3 s): 3 lockouts in a row, each refusing the right token with 429 (${seen.join(', ')}); then the right token worked`)
  })
})

test('FailureLimiter on a fake clock: doubling, cap, no stacking during a lockout, reset on success, forgetting, bounded table', () => {
  let now = 1_000_000
  const l = new FailureLimiter({ freeFailures: 3, baseMs: 1000, maxMs: 8000, forgetMs: 60_000, maxClients: 100 }, () => now)
  const k = 'ip|direct'
  l.failure(k); l.failure(k)
  assert.equal(l.lockedFor(k), 0)
  const waits: number[] = []
  for (let i = 0; i < 6; i++) {
    l.failure(k)
    waits.push(l.lockedFor(k))
    l.failure(k) // during the lockout: not counted
    now += l.lockedFor(k)
  }
  assert.deepEqual(waits, [1000, 2000, 4000, 8000, 8000, 8000])
  l.success(k)
  l.failure(k)
  assert.equal(l.lockedFor(k), 0, 'success cleared the count')
  l.failure(k); l.failure(k)
  assert.equal(l.lockedFor(k), 1000)
  now += 61_000
  l.failure(k)
  assert.equal(l.lockedFor(k), 0, 'forgotten after forgetMs without failures')
  for (let i = 0; i < 10_000; i++) l.failure(`10.0.${i >> 8}.${i & 255}|direct`)
  assert.equal(l.lockedFor('10.0.0.0|direct'), 0, 'the oldest clients are dropped past maxClients')
  assert.ok((l as unknown as { clients: Map<string, unknown> }).clients.size <= 100)
})

test('addresses are counted per IPv4 address and per IPv6 /64', () => {
  assert.equal(addressBucket('127.0.0.1'), '127.0.0.1')
  assert.equal(addressBucket('::ffff:10.1.2.3'), '10.1.2.3')
  assert.equal(addressBucket('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64')
  assert.equal(addressBucket('2001:db8:1:2::1'), '2001:db8:1:2::/64')
  assert.equal(addressBucket('2001:0db8:0001:0002:ffff::9'), '2001:db8:1:2::/64')
  assert.equal(addressBucket('2001:db8::1'), '2001:db8:0:0::/64')
  assert.equal(addressBucket('::1'), '0:0:0:0::/64')
  assert.equal(addressBucket('fe80::1%eth0'), 'fe80:0:0:0::/64')
  assert.notEqual(addressBucket('2001:db8:1:2::1'), addressBucket('2001:db8:1:3::1'))
})
