// The contract over the WebSocket transport of `shoal serve` (the built CLI): every call answers,
// bad arguments and unknown names come back as typed errors, malformed and oversized messages are
// refused without taking the server down, and nothing is served without the token.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'node:http'
import { COMMAND_NAMES, QUERY_NAMES, type CallName } from '../../main/contract/contract.ts'
import { tempDir, randomFile } from '../helpers/fixtures.ts'
import { startServe, WsApi, type Served } from '../e2e/harness.ts'

let served: Served
let api: WsApi
const dir = tempDir('shoal-bridge-')
const HASH = '0123456789abcdef0123456789abcdef01234567'

before(async () => {
  served = await startServe(dir.path)
  api = await WsApi.open(served)
})

after(async () => {
  api?.close()
  await served?.stop()
  dir.cleanup()
})

type Outcome = { ok: true; result: unknown } | { ok: false; code: string; message: string }
async function outcome (name: string, args: unknown): Promise<Outcome> {
  try { return { ok: true, result: await api.call(name, args) } } catch (err) {
    const e = err as Error & { code: string }
    return { ok: false, code: e.code, message: e.message }
  }
}

/** A raw socket, for messages the client class would never send. */
async function rawSocket (): Promise<WebSocket> {
  const ws = new WebSocket(`${served.origin.replace('http', 'ws')}/ws?token=${served.token}`)
  await new Promise<void>((res, rej) => { ws.onopen = () => res(); ws.onerror = () => rej(new Error('refused')) })
  return ws
}
function nextMessage (ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const on = (ev: MessageEvent) => {
      const m = JSON.parse(String(ev.data)) as Record<string, unknown>
      if ('event' in m) return
      ws.removeEventListener('message', on)
      resolve(m)
    }
    ws.addEventListener('message', on)
  })
}

test('every contract call is reachable with valid arguments', async () => {
  const shared = randomFile(join(dir.path, 'share', 'a.bin'), 200_000)
  const valid: Record<CallName, unknown> = {
    'torrent.add': { source: { kind: 'uri', uri: `magnet:?xt=urn:btih:${HASH}&dn=probe` }, paused: true },
    'torrent.share': { paths: [shared] },
    'torrent.pause': { infoHashes: [HASH] },
    'torrent.resume': { infoHashes: [HASH] },
    'torrent.remove': { infoHashes: [HASH], deleteData: false },
    'torrent.recheck': { infoHash: HASH },
    'torrent.setFilePriorities': { infoHash: HASH, files: [{ index: 0, priority: 'high' }] },
    'torrent.setSequential': { infoHash: HASH, sequential: true },
    'torrent.exportTorrent': { infoHash: HASH },
    'settings.update': { maxConnections: 55 },
    'nat.refresh': {},
    'shell.openPath': { infoHash: HASH, reveal: true },
    'shell.pickTorrentFiles': {},
    'shell.pickShareFolder': {},
    'torrents.list': {},
    'torrents.detail': { infoHash: HASH },
    'peers.list': {},
    'peers.banned': {},
    'stats.get': {},
    'settings.get': {},
    'nat.status': {},
    'app.capabilities': {}
  }
  // Order matters only for the torrent calls: add first, remove last.
  const names = [...COMMAND_NAMES, ...QUERY_NAMES].sort((a, b) => (a === 'torrent.add' ? -1 : b === 'torrent.add' ? 1 : a === 'torrent.remove' ? 1 : b === 'torrent.remove' ? -1 : 0))
  assert.equal(names.length, Object.keys(valid).length, 'the table covers the whole contract')
  for (const name of names) {
    const o = await outcome(name, valid[name])
    // Reachable: a result, or a typed refusal that is not about the call or its arguments.
    if (!o.ok) {
      assert.notEqual(o.code, 'BAD_ARGUMENT', `${name}: ${o.message}`)
      assert.ok(['UNSUPPORTED', 'NOT_FOUND'].includes(o.code), `${name} failed with ${o.code}: ${o.message}`)
    }
  }
  assert.equal((await outcome('shell.pickTorrentFiles', {}) as { code: string }).code, 'UNSUPPORTED', 'serve has no desktop')
  const caps = await api.call<{ transport: string; desktop: boolean }>('app.capabilities')
  assert.deepEqual({ transport: caps.transport, desktop: caps.desktop }, { transport: 'websocket', desktop: false })
  assert.equal((await api.call<{ maxConnections: number }>('settings.get')).maxConnections, 55)
  const list = await api.call<Array<{ name: string; origin: string }>>('torrents.list')
  assert.deepEqual(list.map((t) => [t.name, t.origin]), [['a.bin', 'shared']])
})

test('events are pushed: settings.changed after settings.update', async () => {
  const before = api.events.length
  await api.call('settings.update', { maxConnections: 77 })
  const deadline = Date.now() + 5000
  while (!api.events.slice(before).some((e) => e.event === 'settings.changed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  const ev = api.events.slice(before).find((e) => e.event === 'settings.changed')
  assert.equal((ev?.payload as { maxConnections: number }).maxConnections, 77)
})

test('bad arguments are refused with BAD_ARGUMENT, naming the field', async () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['torrent.pause', { infoHashes: ['not-a-hash'] }, /infoHashes/],
    ['torrent.add', { source: { kind: 'ftp', uri: 'x' } }, /source/],
    ['torrent.remove', { infoHashes: [HASH] }, /deleteData/],
    ['settings.update', { port: 70000 }, /port/],
    ['settings.update', { theme: 'neon' }, /theme/],
    ['torrents.detail', 'a string', /Invalid arguments/]
  ]
  for (const [name, args, re] of cases) {
    const o = await outcome(name, args)
    assert.equal(o.ok, false, name)
    assert.equal((o as { code: string }).code, 'BAD_ARGUMENT', name)
    assert.match((o as { message: string }).message, re)
  }
})

test('unknown call names are refused with BAD_ARGUMENT', async () => {
  for (const name of ['torrent.format', '__proto__', 'constructor', '']) {
    const o = await outcome(name, {})
    assert.equal((o as { code: string }).code, 'BAD_ARGUMENT', name)
  }
})

test('malformed messages get an error reply and the connection stays usable', async () => {
  const ws = await rawSocket()
  for (const bad of ['{not json', '[1,2]', 'null', '{"call":"stats.get"}', JSON.stringify({ id: 5, call: 42 })]) {
    const reply = nextMessage(ws)
    ws.send(bad)
    const m = await reply
    assert.equal((m.error as { code: string }).code, 'BAD_ARGUMENT', bad)
  }
  const reply = nextMessage(ws)
  ws.send(JSON.stringify({ id: 9, call: 'stats.get', args: {} }))
  const m = await reply
  assert.equal(m.id, 9)
  assert.equal(typeof (m.result as { listeningPort: number }).listeningPort, 'number')
  ws.close()
})

test('an oversized message closes that socket with 1009; the server carries on', async () => {
  const ws = await rawSocket()
  const closed = new Promise<number>((r) => { ws.onclose = (ev) => r(ev.code) })
  ws.send(JSON.stringify({ id: 1, call: 'torrent.add', args: { source: { kind: 'torrentBytes', base64: 'A'.repeat(65 * 1024 * 1024) } } }))
  assert.equal(await closed, 1009)
  assert.ok((await api.call<unknown[]>('torrents.list')).length >= 1)
})

function httpGet (path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${served.origin}${path}`, { headers }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => { body += d.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }))
    })
    req.on('error', reject)
    req.end()
  })
}

test('without the token: 401 and no data on HTTP, and the WebSocket upgrade is refused', async () => {
  for (const path of ['/', '/index.html', '/assets/', '/api/upload?batch=x&path=y', '/?token=wrong']) {
    const r = await httpGet(path)
    assert.equal(r.status, 401, path)
    assert.doesNotMatch(r.body, /<html|<script|infoHash/i, path)
  }
  assert.equal((await httpGet('/', { authorization: 'Bearer nope' })).status, 401)
  const withToken = await httpGet(`/?token=${served.token}`)
  assert.equal(withToken.status, 200)
  assert.match(withToken.body, /<div id="app">/)
  assert.match(String(withToken.headers['set-cookie']), /HttpOnly; SameSite=Strict/)
  // A page from another host name (DNS rebinding) is refused even with the token.
  assert.equal((await httpGet(`/?token=${served.token}`, { host: 'evil.example:80' })).status, 403)

  for (const url of [`${served.origin.replace('http', 'ws')}/ws`, `${served.origin.replace('http', 'ws')}/ws?token=wrong`]) {
    const ws = new WebSocket(url)
    const refused = await new Promise<boolean>((r) => { ws.onopen = () => { ws.close(); r(false) }; ws.onerror = () => r(true) })
    assert.ok(refused, url)
  }
})

function put (path: string, body: string, token: string | null): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${served.origin}${path}`, { method: 'PUT', headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let text = ''
      res.on('data', (d: Buffer) => { text += d.toString() })
      res.on('end', () => { let json = {}; try { json = JSON.parse(text) as Record<string, unknown> } catch { /* 401 is plain text */ } resolve({ status: res.statusCode ?? 0, json }) })
    })
    req.on('error', reject)
    req.end(body)
  })
}

test('uploads land in the download folder, never outside it, never over an existing file', async () => {
  const q = (path: string, batch = 'b1') => `/api/upload?${new URLSearchParams({ batch, path })}`
  assert.equal((await put(q('x.txt'), 'x', null)).status, 401)
  for (const bad of ['../escape.txt', '/etc/passwd', 'a/../../b', 'dir\\..\\x', '.', 'con:', 'a\u0000b', '']) {
    const r = await put(q(bad), 'evil', served.token)
    assert.equal(r.status, 400, JSON.stringify(bad))
    assert.equal((r.json.error as { code: string }).code, 'UNSAFE_PATH', JSON.stringify(bad))
  }
  assert.ok(!existsSync(join(dir.path, 'escape.txt')))
  const first = await put(q('notes.txt'), 'one', served.token)
  assert.equal(first.status, 201)
  assert.equal(first.json.path, join(served.downloads, 'notes.txt'))
  const nested = await put(q('album/disc 1/track.txt', 'b2'), 'two', served.token)
  assert.equal(nested.json.path, join(served.downloads, 'album'))
  // Same name in a later drop: a new name, the first file untouched.
  const again = await put(q('notes.txt', 'b3'), 'three', served.token)
  assert.equal(again.json.path, join(served.downloads, 'notes (1).txt'))
  assert.equal(readFileSync(join(served.downloads, 'notes.txt'), 'utf8'), 'one')
  assert.equal(readFileSync(join(served.downloads, 'album', 'disc 1', 'track.txt'), 'utf8'), 'two')
})
