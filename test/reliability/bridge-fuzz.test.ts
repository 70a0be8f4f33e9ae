// The bridge under hostile messages, on both transports: Electron IPC (the real preload bundle in a
// vm, main's real call handler, the real host and engine; only `electron` is a stand-in) and the
// WebSocket transport of a real `shoal serve` (the built CLI). Seeded generated messages: unknown
// names, wrong shapes and types, prototype keys, multi-MB and deeply nested values, broken
// envelopes, binary and non-UTF-8 frames, duplicate ids, replies nobody asked for, frames after a
// close, oversized frames. Each must be refused with a clear { code, message } (or the socket closed
// with a clear close code), and afterwards a valid call still answers and a real torrent add still
// works, with memory bounded. SHOAL_FUZZ_SEED repeats a run; SHOAL_RELIABILITY_LONG=1 sends more.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { randomBytes } from 'node:crypto'
import WebSocket from 'ws'
import { ERROR_CODES, IPC_CALL_CHANNEL } from '../../main/contract/contract.ts'
import { tempDir, waitFor } from '../helpers/fixtures.ts'
import { openIpcRig, APP_FRAME } from '../shell/ipc-transport.ts'
import { bundlePreload } from '../shell/preload-harness.ts'
import { startServe, type Served } from '../e2e/harness.ts'
import { MAX_SOCKETS } from '../../main/server/ws-transport.ts'
import { Gen, hostileCall, hostileValue, deepNest, type CallCase } from './hostile-messages.ts'
import { writeFigures } from './figures.ts'
import { heapAfterGc } from './gc.ts'

const LONG = process.env.SHOAL_RELIABILITY_LONG === '1'
const SEED = Number(process.env.SHOAL_FUZZ_SEED ?? 0xb41d9e)
const MESSAGES = Number(process.env.SHOAL_BRIDGE_FUZZ_MESSAGES ?? (LONG ? 40_000 : 2_500))
const KNOWN_CODES = new Set<string>(ERROR_CODES)
const MAGNET = (h: string) => `magnet:?xt=urn:btih:${h}&dn=bridge-fuzz`

type Outcome = { ok: true; result: unknown } | { ok: false; code: string; message: string }

/** A refusal must be a contract error: known code, a readable sentence, not an echo of megabytes. */
function assertClearError (e: unknown, what: string): { code: string; message: string } {
  const err = e as { code?: unknown; message?: unknown }
  assert.ok(err && typeof err === 'object', `${what}: rejected with ${String(e)}`)
  assert.ok(typeof err.code === 'string' && KNOWN_CODES.has(err.code), `${what}: unknown code ${String(err.code)}`)
  assert.ok(typeof err.message === 'string' && err.message.length > 0 && err.message.length <= 1000, `${what}: message ${String(err.message).slice(0, 200)}`)
  return { code: err.code, message: err.message }
}

function checkOutcome (c: CallCase, o: Outcome, what: string, byCode: Record<string, number>): void {
  const key = o.ok ? 'ok' : o.code
  byCode[key] = (byCode[key] ?? 0) + 1
  if (c.expect === 'bad') {
    assert.equal(o.ok, false, `${what}: expected a refusal, got a result`)
    assert.equal((o as { code: string }).code, 'BAD_ARGUMENT', `${what}: ${(o as { message: string }).message}`)
  }
  if (!o.ok) assert.notEqual(o.code, 'INTERNAL', `${what}: an internal error is a bug: ${o.message}`)
}

const describe = (c: CallCase, i: number): string => `seed ${SEED} #${i} ${c.kind} ${JSON.stringify(c.name)?.slice(0, 80)} ${JSON.stringify(c.args)?.slice(0, 160)}`

function prototypesClean (): void {
  for (const o of [{}, [], Object.create(Object.prototype) as object]) {
    assert.equal((o as Record<string, unknown>).polluted, undefined, 'Object.prototype was polluted')
    assert.equal((o as Record<string, unknown>).infoHash, undefined, 'Object.prototype was polluted')
  }
  assert.deepEqual(Object.keys(Object.prototype), [])
}

// ------------------------------------------------------------------------------------- IPC

let preloadCode = ''
before(async () => { preloadCode = await bundlePreload() })

test('ipc: thousands of seeded hostile calls through the preload and straight at main are refused clearly; the engine still works', async () => {
  const dir = tempDir('shoal-bridge-fuzz-ipc-')
  const rig = await openIpcRig(dir.path, preloadCode)
  const g = new Gen(SEED)
  const byCode: Record<string, number> = {}
  let viaPreload = 0
  let direct = 0
  const heap0 = heapAfterGc()
  let peakHeap = heap0
  const heapQuarters: number[] = []
  try {
    for (let i = 0; i < MESSAGES; i++) {
      const c = hostileCall(g)
      let o: Outcome
      if (g.chance(0.5)) {
        // What the page can do: window.shoal.call.
        viaPreload++
        try { o = { ok: true, result: await rig.bridge.call(c.name as never, c.args as never) } } catch (e) { o = { ok: false, ...assertClearError(e, describe(c, i)) } }
      } else {
        // A renderer that got past the preload: any value as the name, any number of arguments.
        direct++
        const extra = g.chance(0.1) ? [hostileValue(g), hostileValue(g)] : []
        const res = await rig.ipcMain.invokeFrom(APP_FRAME, IPC_CALL_CHANNEL, c.name, c.args, ...extra) as { ok: boolean; result?: unknown; error?: unknown }
        assert.equal(typeof res.ok, 'boolean', describe(c, i))
        o = res.ok ? { ok: true, result: res.result } : { ok: false, ...assertClearError(res.error, describe(c, i)) }
      }
      checkOutcome(c, o, describe(c, i), byCode)
      if ((i + 1) % Math.ceil(MESSAGES / 4) === 0) heapQuarters.push(heapAfterGc())
      // The stand-in ipcRenderer records every invoke for other tests; that record is not the app's memory.
      rig.preload.invokes.length = 0
      if (i % 250 === 0) {
        assert.equal(typeof (await rig.bridge.call('stats.get', {})).listeningPort, 'number')
        peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
      }
    }
    // Values only structured clone carries, and names that are not strings at all.
    const odd: unknown[] = [new Map([['infoHash', 'x']]), new Set([1]), new Date(0), 10n, new Uint8Array(8), deepNest(200), (() => { const o: Record<string, unknown> = {}; o.self = o; return o })()]
    for (const v of odd) {
      for (const [name, args] of [['torrents.detail', v], ['torrent.add', { source: v }], [v, {}]] as Array<[unknown, unknown]>) {
        const res = await rig.ipcMain.invokeFrom(APP_FRAME, IPC_CALL_CHANNEL, name, args) as { ok: boolean; error?: unknown }
        assert.equal(res.ok, false)
        assert.equal(assertClearError(res.error, `odd ${Object.prototype.toString.call(v)}`).code, 'BAD_ARGUMENT')
        direct++
      }
    }
    for (const name of [{ toString: 1 }, ['torrents.list'], 42, null, undefined, true]) {
      const res = await rig.ipcMain.invokeFrom(APP_FRAME, IPC_CALL_CHANNEL, name) as { ok: boolean; error?: unknown }
      assert.equal(assertClearError(res.error, `name ${String(JSON.stringify(name))}`).code, 'BAD_ARGUMENT')
      direct++
    }
    // Multi-MB values through the preload and IPC: refused with a short message, nothing echoed.
    const big = 'A'.repeat(8 * 1024 * 1024)
    for (const [name, args] of [[big, {}], ['torrent.add', { source: { kind: 'uri', uri: big } }], ['torrent.share', { paths: [big] }], ['torrents.detail', { infoHash: big }]] as Array<[string, unknown]>) {
      await assert.rejects(rig.bridge.call(name as never, args as never), (e) => assertClearError(e, 'multi-MB').code === 'BAD_ARGUMENT')
      viaPreload++
    }
    // Subscriptions for events that do not exist are inert, and unsubscribing twice is harmless.
    for (const ev of ['torrents.changed', 'nope', '__proto__', 'constructor', '']) {
      const off = rig.bridge.on(ev as never, () => {})
      assert.equal(typeof off, 'function')
      off(); off()
    }
    prototypesClean()

    // Still working: queries answer, and a real add shows up in the list.
    const hash = randomBytes(20).toString('hex')
    const added = await rig.bridge.call('torrent.add', { source: { kind: 'uri', uri: MAGNET(hash) }, paused: true })
    assert.equal(added.infoHash, hash)
    assert.ok((await rig.bridge.call('torrents.list', {})).some((t) => t.infoHash === hash))
    const heap1 = heapAfterGc()
    peakHeap = Math.max(peakHeap, heap1)
    // Bounded: nothing of thousands of refused calls is kept.
    assert.ok(heap1 - heap0 < 64 * 1024 * 1024, `heap grew by ${((heap1 - heap0) / 1048576).toFixed(1)} MiB`)
    // No trend: after the first quarter, the rest of the run adds next to nothing.
    assert.ok(heapQuarters.at(-1)! - heapQuarters[0]! < 16 * 1024 * 1024, `heap after GC by quarter: ${heapQuarters.map((h) => (h / 1048576).toFixed(1)).join(', ')} MiB`)
    writeFigures('bridge-fuzz-ipc', {
      title: 'Bridge fuzz, Electron IPC (real preload + host + engine)',
      seed: SEED,
      messages: viaPreload + direct,
      byCode,
      reportLines: [
        `${viaPreload + direct} hostile calls, seed ${SEED}: ${viaPreload} through the preload, ${direct} straight at main's handler`,
        `outcomes ${JSON.stringify(byCode)}; 0 internal errors, 0 crashes; prototypes clean; a real add worked afterwards`,
        `heap after GC ${(heap0 / 1048576).toFixed(1)} MiB at start, ${heapQuarters.map((h) => (h / 1048576).toFixed(1)).join(' / ')} MiB after each quarter, ${(heap1 / 1048576).toFixed(1)} MiB at the end (peak ${(peakHeap / 1048576).toFixed(1)} MiB)`
      ]
    })
  } finally {
    await rig.close()
    // After close: the page's calls fail with a clear error instead of hanging or throwing raw.
    await assert.rejects(rig.bridge.call('stats.get', {}), (e) => { assertClearError(e, 'call after close'); return true })
    dir.cleanup()
  }
})

// ------------------------------------------------------------------------------- WebSocket

let served: Served
const wsDir = tempDir('shoal-bridge-fuzz-ws-')
before(async () => { served = await startServe(wsDir.path) })
after(async () => { await served?.stop(); wsDir.cleanup() })

const wsUrl = () => `${served.origin.replace('http', 'ws')}/ws?token=${encodeURIComponent(served.token)}`

function rssOf (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) * 1024 : 0
}

/** A ws client that hands out replies in order and reports its close code. */
class Sock {
  readonly ws: WebSocket
  private readonly replies: Array<Record<string, unknown>> = []
  private waiter: (() => void) | null = null
  closeCode: number | null = null
  readonly closed: Promise<number>
  private constructor (ws: WebSocket) {
    this.ws = ws
    this.closed = new Promise((resolve) => ws.on('close', (code) => { this.closeCode = code; this.waiter?.(); resolve(code) }))
    ws.on('error', () => {})
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as Record<string, unknown>
      if ('event' in m) return
      this.replies.push(m)
      this.waiter?.()
    })
  }

  static async open (): Promise<Sock> {
    const ws = new WebSocket(wsUrl(), { maxPayload: 256 * 1024 * 1024 })
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject) })
    return new Sock(ws)
  }

  /** The next reply, or null when the socket closed first. */
  async next (what: string, timeoutMs = 60_000): Promise<Record<string, unknown> | null> {
    const deadline = Date.now() + timeoutMs
    while (!this.replies.length) {
      if (this.closeCode !== null) return null
      if (Date.now() > deadline) throw new Error(`no reply in ${timeoutMs} ms to ${what}`)
      await new Promise<void>((resolve) => { this.waiter = resolve; setTimeout(resolve, 1000) })
      this.waiter = null
    }
    return this.replies.shift()!
  }

  async call (name: string, args: unknown = {}): Promise<Record<string, unknown>> {
    const id = `ok-${randomBytes(4).toString('hex')}`
    this.ws.send(JSON.stringify({ id, call: name, args }))
    const r = await this.next(name)
    assert.ok(r, `socket closed before ${name} answered`)
    assert.equal(r.id, id)
    return r
  }
}

/** Broken envelopes: each gets { id: null or its id, error: BAD_ARGUMENT }. */
function brokenEnvelope (g: Gen): { frame: string | Buffer; binary?: boolean; id: unknown; kind: string } {
  const id = g.int(1e9)
  switch (g.int(9)) {
    case 0: return { frame: g.str(g.range(0, 200)), id: null, kind: 'not JSON' }
    case 1: return { frame: g.pick(['null', '[]', '[1,2]', '"x"', '42', 'true', '{}', '{"id":{}}', '{"id":[1]}', '{"id":true,"call":"stats.get"}', '{"id":null,"call":"stats.get"}']), id: null, kind: 'not an envelope' }
    case 2: return { frame: JSON.stringify({ id, result: hostileValue(g) }), id, kind: 'reply to an id never sent' }
    case 3: return { frame: JSON.stringify({ id, error: { code: 'INTERNAL', message: 'x' } }), id, kind: 'error reply nobody asked for' }
    case 4: return { frame: JSON.stringify({ event: g.pick(['torrents.changed', 'subscribe', '__proto__']), payload: hostileValue(g) }), id: null, kind: 'event from the client' }
    case 5: return { frame: JSON.stringify({ id, call: g.pick(['subscribe', 'unsubscribe', 'hello', 'auth']), args: { event: g.pick(['nope', 'torrents.changed', '__proto__']) } }), id, kind: 'subscribe/hello' }
    case 6: return { frame: randomBytes(g.range(1, 64)), binary: true, id: null, kind: 'binary frame' }
    case 7: return { frame: `{"id":${id},"call":"stats.get","args":${'['.repeat(g.range(1000, 100_000))}`, id: null, kind: 'deep, unterminated' }
    default: return { frame: `{"id":${id},"call":"torrents.detail","args":{"infoHash":${'['.repeat(5000)}1${']'.repeat(5000)}}}`, id, kind: 'deep args' }
  }
}

/** A masked client frame, written by hand (ws would refuse to send what these tests need). */
function frame (opcode: number, payload: Buffer, { mask = true, fakeLength }: { mask?: boolean; fakeLength?: bigint } = {}): Buffer {
  const head: number[] = [0x80 | opcode]
  const len = fakeLength ?? BigInt(payload.length)
  const m = mask ? 0x80 : 0
  let ext = Buffer.alloc(0)
  if (len < 126n) head.push(m | Number(len))
  else if (len < 65536n) { head.push(m | 126); ext = Buffer.alloc(2); ext.writeUInt16BE(Number(len)) } else { head.push(m | 127); ext = Buffer.alloc(8); ext.writeBigUInt64BE(len) }
  const key = randomBytes(4)
  const body = Buffer.from(payload)
  if (mask) for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ key[i % 4]!
  return Buffer.concat([Buffer.from(head), ext, mask ? key : Buffer.alloc(0), body])
}

/** A raw TCP WebSocket: upgrade by hand, then write frames; resolves with the close code the server sent (or null). */
async function rawSession (frames: Buffer[]): Promise<{ closeCode: number | null; replies: number }> {
  const u = new URL(wsUrl())
  const s = connect(Number(u.port), u.hostname)
  let buf = Buffer.alloc(0)
  s.on('data', (d: Buffer) => { buf = Buffer.concat([buf, d]) })
  s.on('error', () => {})
  await new Promise<void>((resolve) => s.once('connect', () => resolve()))
  s.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`)
  await waitFor('the 101 response', () => buf.includes('\r\n\r\n'), 30_000, 20)
  assert.match(buf.toString('latin1', 0, 20), /^HTTP\/1.1 101/)
  buf = buf.subarray(buf.indexOf('\r\n\r\n') + 4)
  for (const f of frames) s.write(f)
  await new Promise<void>((resolve) => { s.once('close', () => resolve()); setTimeout(() => { s.destroy(); resolve() }, 20_000) })
  // Parse the server's (unmasked) frames: count text replies, find the close code.
  let closeCode: number | null = null
  let replies = 0
  for (let p = 0; p + 2 <= buf.length;) {
    const op = buf[p]! & 0x0f
    let len = buf[p + 1]! & 0x7f
    let q = p + 2
    if (len === 126) { len = buf.readUInt16BE(q); q += 2 } else if (len === 127) { len = Number(buf.readBigUInt64BE(q)); q += 8 }
    if (op === 0x8 && len >= 2) closeCode = buf.readUInt16BE(q)
    if (op === 0x1) replies++
    p = q + len
  }
  return { closeCode, replies }
}

test('websocket: thousands of seeded hostile messages to shoal serve are refused clearly; the server keeps working with bounded memory', async () => {
  const g = new Gen(SEED ^ 0x5eed)
  const pid = served.child.pid!
  const rss0 = rssOf(pid)
  let peakRss = rss0
  const byCode: Record<string, number> = {}
  const closes: Record<string, number> = {}
  let sent = 0
  let bigSent = 0
  const MAX_BIG = 300
  let sock = await Sock.open()
  const reopen = async () => { sock.ws.terminate(); sock = await Sock.open() }
  try {
    for (let i = 0; i < MESSAGES; i++) {
      let k = g.int(20)
      // Multi-MB messages: about 1 in 20, at most MAX_BIG in a run (the long run would move gigabytes).
      if (k === 19 && bigSent >= MAX_BIG) k = 0
      if (k < 11) {
        // Contract-level: hostile call names and arguments in a well-formed envelope.
        const c = hostileCall(g)
        const id = g.chance(0.5) ? i : `m${i}`
        sock.ws.send(JSON.stringify({ id, call: c.name, args: c.args }))
        sent++
        const r = await sock.next(describe(c, i))
        assert.ok(r, `${describe(c, i)}: the socket closed`)
        assert.equal(r.id, id, describe(c, i))
        const o: Outcome = 'result' in r ? { ok: true, result: r.result } : { ok: false, ...assertClearError(r.error, describe(c, i)) }
        if (typeof c.name !== 'string') assert.equal((o as { code: string }).code, 'BAD_ARGUMENT')
        checkOutcome(c, o, describe(c, i), byCode)
      } else if (k < 18) {
        const b = brokenEnvelope(g)
        sock.ws.send(b.frame, { binary: !!b.binary })
        sent++
        const what = `seed ${SEED} #${i} ${b.kind}`
        const r = await sock.next(what)
        assert.ok(r, `${what}: the socket closed`)
        const e = assertClearError(r.error, what)
        assert.equal(e.code, 'BAD_ARGUMENT', `${what}: ${e.message}`)
        byCode[e.code] = (byCode[e.code] ?? 0) + 1
      } else if (k === 18) {
        // The same id twice, in flight together: two answers, both with that id.
        const id = `dup${i}`
        sock.ws.send(JSON.stringify({ id, call: 'stats.get', args: {} }))
        sock.ws.send(JSON.stringify({ id, call: 'torrents.detail', args: { infoHash: 'nope' } }))
        sent += 2
        const a = await sock.next('duplicate id'); const b = await sock.next('duplicate id')
        assert.deepEqual([a?.id, b?.id], [id, id])
        assert.equal([a, b].filter((r) => r && 'result' in r).length, 1)
      } else {
        // Multi-MB text, under the size limit: a name, an id, or arguments of megabytes.
        bigSent++
        const big = 'A'.repeat(g.range(1, 6) * 1024 * 1024)
        const which = g.int(3)
        const msg = which === 0 ? { id: i, call: big } : which === 1 ? { id: big, call: 'stats.get' } : { id: i, call: 'torrent.add', args: { source: { kind: 'uri', uri: big } } }
        sock.ws.send(JSON.stringify(msg))
        sent++
        const r = await sock.next('multi-MB message')
        assert.ok(r, 'the socket closed on a multi-MB message')
        const e = assertClearError(r.error, 'multi-MB message')
        assert.equal(e.code, 'BAD_ARGUMENT')
        assert.ok(JSON.stringify(r).length < 4096, 'the reply does not echo megabytes back')
        byCode[e.code] = (byCode[e.code] ?? 0) + 1
      }
      if (i % 200 === 0) {
        assert.equal(typeof (await sock.call('stats.get')).result, 'object')
        peakRss = Math.max(peakRss, rssOf(pid))
      }
      if (i % 500 === 250) {
        // Text frames that are not UTF-8: the server closes with 1007 and carries on.
        sock.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false })
        sent++
        assert.equal(await sock.closed, 1007)
        closes['1007'] = (closes['1007'] ?? 0) + 1
        await reopen()
      }
    }

    // Pipelined without waiting: every message answered once, in any order.
    const N = LONG ? 5000 : 1000
    for (let i = 0; i < N; i++) sock.ws.send(JSON.stringify({ id: `p${i}`, call: i % 2 ? 'stats.get' : 'torrents.detail', args: i % 2 ? {} : { infoHash: 'x' } }))
    sent += N
    const seen = new Set<unknown>()
    for (let i = 0; i < N; i++) seen.add((await sock.next('pipelined'))?.id)
    assert.equal(seen.size, N)

    // Over the frame limit: a real 65 MiB frame, and a header that only claims 1 TiB.
    const huge = await Sock.open()
    huge.ws.send(JSON.stringify({ id: 1, call: 'torrent.add', args: { source: { kind: 'torrentBytes', base64: 'A'.repeat(65 * 1024 * 1024) } } }))
    assert.equal(await huge.closed, 1009)
    sent++
    peakRss = Math.max(peakRss, rssOf(pid))
    const claimed = await rawSession([frame(0x1, Buffer.from('{"id":1'), { fakeLength: 2n ** 40n })])
    assert.equal(claimed.closeCode, 1009)
    // Protocol violations: an unmasked client frame (1002); frames after the client's close frame get nothing.
    assert.equal((await rawSession([frame(0x1, Buffer.from('{"id":1,"call":"stats.get"}'), { mask: false })])).closeCode, 1002)
    const afterClose = await rawSession([frame(0x8, Buffer.from([0x03, 0xe8])), frame(0x1, Buffer.from('{"id":1,"call":"stats.get"}')), frame(0x1, Buffer.from('{"id":2,"call":"torrents.list"}'))])
    assert.equal(afterClose.closeCode, 1000)
    assert.equal(afterClose.replies, 0, 'no answers to messages after close')
    sent += 6
    closes['1009'] = 2
    closes['1002'] = 1
    closes['1000 (then ignored)'] = 1

    // Still working: a valid call on a new socket, and a real add that shows in the list.
    const fresh = await Sock.open()
    const hash = randomBytes(20).toString('hex')
    const add = await fresh.call('torrent.add', { source: { kind: 'uri', uri: MAGNET(hash) }, paused: true })
    assert.deepEqual(add.result, { infoHash: hash })
    const list = (await fresh.call('torrents.list')).result as Array<{ infoHash: string }>
    assert.ok(list.some((t) => t.infoHash === hash))
    fresh.ws.close()
    assert.equal(served.child.exitCode, null, 'the server is still running')
    const rss1 = rssOf(pid)
    peakRss = Math.max(peakRss, rss1)
    // Bounded: megabyte messages come and go; a 65 MiB frame is refused before it is buffered whole.
    assert.ok(peakRss < 1536 * 1024 * 1024, `server peak RSS ${(peakRss / 1048576).toFixed(0)} MiB`)
    writeFigures('bridge-fuzz-ws', {
      title: 'Bridge fuzz, WebSocket transport of a real shoal serve',
      seed: SEED ^ 0x5eed,
      messages: sent,
      byCode,
      closes,
      reportLines: [
        `${sent} hostile messages, seed ${SEED ^ 0x5eed} (envelopes, calls, binary, non-UTF-8, duplicate ids, unasked replies, ${bigSent} of 1-6 MiB, deep nesting, ${N} pipelined)`,
        `replies ${JSON.stringify(byCode)}; sockets closed ${JSON.stringify(closes)}; 0 internal errors; the server kept running and a real add worked afterwards`,
        `server RSS ${(rss0 / 1048576).toFixed(0)} MiB at start, ${(peakRss / 1048576).toFixed(0)} MiB peak, ${(rss1 / 1048576).toFixed(0)} MiB at the end`
      ]
    })
  } finally {
    sock.ws.terminate()
  }
})

test('websocket: open sockets are capped (503 past the cap), and a freed slot is usable again', async () => {
  const open: WebSocket[] = []
  let refused: string | null = null
  try {
    for (let i = 0; i < 100 && !refused; i++) {
      const ws = new WebSocket(wsUrl())
      ws.on('error', () => {})
      const r = await new Promise<string>((resolve) => {
        ws.once('open', () => resolve('open'))
        ws.once('unexpected-response', (_req, res) => resolve(String(res.statusCode)))
        ws.once('error', (e) => resolve(e.message))
      })
      if (r === 'open') open.push(ws); else refused = r
    }
    assert.equal(refused, '503')
    assert.ok(open.length >= 60 && open.length <= MAX_SOCKETS, `${open.length} sockets opened`)
    open.pop()!.close()
    await waitFor('a freed slot', async () => {
      try { const s = await Sock.open(); const r = await s.call('stats.get'); s.ws.close(); return 'result' in r } catch { return false }
    }, 30_000, 200)
  } finally {
    for (const ws of open) ws.terminate()
  }
})
