// The Electron shell's decisions, tested without Electron: which frames and URLs are trusted,
// which links may leave the app, what argv asks to open, how events are batched, how the stored
// document migrates, and that quitting finishes within its deadline with a real engine.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { isAppUrl, isTrustedFrame, APP_URL } from '../../main/app/trusted-frame.ts'
import { isSafeExternalUrl } from '../../main/app/external-links.ts'
import { launchTargets, magnetInText } from '../../main/app/launch-targets.ts'
import { EventBatcher } from '../../main/app/event-batcher.ts'
import { appDefaults, migrations, repairSettings, type MigratableStore } from '../../main/app/store-migrations.ts'
import { shutdown } from '../../main/app/shutdown.ts'
import { formatSpeed, overallProgress } from '../../main/app/speed.ts'
import { contentSecurityPolicy } from '../../main/app/csp.ts'
import type { EventName, EventPayloads, TorrentSummary } from '../../main/contract/contract.ts'
import { defaultSettings } from '../../main/engine/settings.ts'
import { Engine, type PersistedState } from '../../main/engine/engine.ts'
import { JsonFileStore } from '../../main/store/store.ts'
import { openTestEngine } from '../helpers/engines.ts'
import { randomFile, tempDir } from '../helpers/fixtures.ts'

test('trusted frames: the app page and the dev server only, top frame only', () => {
  const none = { devServerUrl: null }
  const dev = { devServerUrl: 'http://127.0.0.1:5173' }
  assert.equal(isTrustedFrame({ url: APP_URL, parent: null }, none), true)
  assert.equal(isTrustedFrame({ url: 'app://shoal/index.html#/peers', parent: null }, none), true)
  assert.equal(isTrustedFrame({ url: APP_URL, parent: {} }, none), false)
  assert.equal(isTrustedFrame(null, none), false)
  assert.equal(isTrustedFrame({ url: 'http://127.0.0.1:5173/', parent: null }, none), false)
  assert.equal(isTrustedFrame({ url: 'http://127.0.0.1:5173/', parent: null }, dev), true)
  assert.equal(isTrustedFrame({ url: 'http://127.0.0.1:5174/', parent: null }, dev), false)
  for (const url of ['app://shoal.evil/index.html', 'app://evil/', 'file:///index.html', 'https://shoal/', 'about:blank', 'data:text/html,x', 'not a url']) {
    assert.equal(isAppUrl(url, dev), false, url)
  }
})

test('external links: http(s) only, no credentials', () => {
  assert.equal(isSafeExternalUrl('https://webtorrent.io/faq'), true)
  assert.equal(isSafeExternalUrl('http://example.com'), true)
  for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'smb://host/share', 'magnet:?xt=urn:btih:x', 'ms-msdt:/id', 'https://user:pw@example.com', 'app://shoal/', '']) {
    assert.equal(isSafeExternalUrl(url), false, url)
  }
})

test('launch targets: magnets and .torrent files from argv, flags ignored, relative paths resolved', () => {
  const m = `magnet:?xt=urn:btih:${'ab'.repeat(20)}`
  assert.deepEqual(launchTargets(['/opt/Shoal/shoal', '--no-sandbox', m, 'dl/a.torrent', '/abs/B.TORRENT', 'readme.txt'], '/home/u'), [
    { kind: 'uri', uri: m },
    { kind: 'torrentFile', path: '/home/u/dl/a.torrent' },
    { kind: 'torrentFile', path: '/abs/B.TORRENT' }
  ])
  assert.deepEqual(launchTargets(['/usr/bin/shoal'], '/'), [])
  assert.equal(magnetInText(`see ${m}&dn=x here`), `${m}&dn=x`)
  assert.equal(magnetInText('no link'), null)
})

function summary (infoHash: string, over: Partial<TorrentSummary> = {}): TorrentSummary {
  return {
    infoHash, name: infoHash, magnetURI: '', origin: 'downloaded', state: 'downloading', error: null, errorCode: null, size: 100, progress: 0,
    checkProgress: null, downloaded: 0, uploaded: 0, downloadSpeed: 0, uploadSpeed: 0, eta: null, ratio: 0, peers: 0, seeds: 0,
    savePath: '/d', addedAt: 0, completedAt: null, sequential: false, private: false, fileCount: 1, ...over
  }
}

test('event batcher: one message per type per interval, torrent patches merged per info hash', async () => {
  const sent: Array<[EventName, unknown]> = []
  const b = new EventBatcher(<E extends EventName>(e: E, p: EventPayloads[E]) => { sent.push([e, p]) }, 100)
  b.push('torrents.changed', { added: [summary('a')], changed: [], removed: [] })
  b.push('torrents.changed', { added: [], changed: [{ infoHash: 'a', patch: { progress: 0.5 } }, { infoHash: 'b', patch: { progress: 0.1 } }], removed: [] })
  b.push('torrents.changed', { added: [], changed: [{ infoHash: 'b', patch: { peers: 3 } }], removed: ['c'] })
  b.push('torrents.changed', { added: [summary('c')], changed: [], removed: ['d'] })
  for (let i = 0; i < 50; i++) b.push('stats.changed', { downloadSpeed: i, uploadSpeed: 0, peers: 0, dhtNodes: 0, listeningPort: 1, torrents: 1, blocklistRanges: 0, blocklistError: null, bannedPeers: 0 })
  b.push('torrent.done', { infoHash: 'a', name: 'a' })
  b.push('torrent.done', { infoHash: 'b', name: 'b' })
  assert.equal(sent.length, 0, 'nothing before the interval')
  await new Promise((r) => setTimeout(r, 150))
  assert.deepEqual(sent.map(([e]) => e), ['torrents.changed', 'stats.changed', 'torrent.done', 'torrent.done'])
  const batch = sent[0]![1] as EventPayloads['torrents.changed']
  assert.deepEqual(batch.added.map((t) => [t.infoHash, t.progress]), [['a', 0.5], ['c', 0]])
  assert.deepEqual(batch.changed, [{ infoHash: 'b', patch: { progress: 0.1, peers: 3 } }])
  assert.deepEqual(batch.removed, ['d'])
  assert.equal((sent[1]![1] as EventPayloads['stats.changed']).downloadSpeed, 49, 'latest stats win')
  // A steady stream is held to the interval.
  sent.length = 0
  const t0 = Date.now()
  while (Date.now() - t0 < 500) {
    b.push('stats.changed', { downloadSpeed: 1, uploadSpeed: 0, peers: 0, dhtNodes: 0, listeningPort: 1, torrents: 1, blocklistRanges: 0, blocklistError: null, bannedPeers: 0 })
    await new Promise((r) => setTimeout(r, 5))
  }
  b.flush()
  assert.ok(sent.length >= 4 && sent.length <= 7, `${sent.length} stats messages in 500 ms at a 100 ms interval`)
  b.close()
})

test('event batcher: share progress keeps the last state of each job, including done', async () => {
  const sent: unknown[] = []
  const b = new EventBatcher((_e, p) => { sent.push(p) }, 50)
  const base = { name: 'x', totalBytes: 10, infoHash: null, error: null }
  b.push('share.progress', { ...base, jobId: '1', phase: 'hashing', hashedBytes: 5 })
  b.push('share.progress', { ...base, jobId: '2', phase: 'hashing', hashedBytes: 1 })
  b.push('share.progress', { ...base, jobId: '1', phase: 'done', hashedBytes: 10 })
  b.flush()
  assert.deepEqual(sent.map((p) => { const s = p as EventPayloads['share.progress']; return `${s.jobId}:${s.phase}` }), ['1:done', '2:hashing'])
  b.close()
})

class MapStore implements MigratableStore {
  data: Record<string, unknown>
  constructor (data: Record<string, unknown>) { this.data = data }
  get (k: string): unknown { return this.data[k] }
  set (k: string, v: unknown): void { this.data[k] = v }
}

test('store migration 0.1.0: a pre-version document gets repaired settings and a torrent list; a current one is untouched', () => {
  const old = new MapStore({ settings: { port: 51413, dht: false, theme: 'purple', bogus: 1 } })
  migrations('/home/u/Downloads')['0.1.0']!(old)
  const s = old.data.settings as ReturnType<typeof defaultSettings>
  assert.equal(s.port, 51413)
  assert.equal(s.dht, false)
  assert.equal(s.theme, 'system', 'an invalid value takes the default')
  assert.equal(s.downloadPath, '/home/u/Downloads')
  assert.equal('bogus' in s, false)
  assert.deepEqual(old.data.torrents, [])
  assert.equal(old.data.version, 1)
  const current = new MapStore({ ...appDefaults('/x'), settings: { ...defaultSettings(), port: 1 } })
  const before = structuredClone(current.data)
  migrations('/x')['0.1.0']!(current)
  assert.deepEqual(current.data, before)
  assert.deepEqual(repairSettings(null, defaultSettings()), defaultSettings())
})

test('the app defaults open a working engine (the document electron-store starts with)', async () => {
  const dir = tempDir()
  try {
    const store = new JsonFileStore<PersistedState>(dir.path)
    for (const [k, v] of Object.entries(appDefaults(join(dir.path, 'dl')))) store.set(k, v)
    const engine = await Engine.open({ store, overrides: { port: 0, dht: false, lsd: false, upnp: false } })
    assert.equal(engine.getSettings().downloadPath, join(dir.path, 'dl'))
    await engine.close()
  } finally { dir.cleanup() }
})

test('quit: engine and NAT close within the 3 s deadline, resume data flushed; a hung part cannot hold it', async () => {
  const dir = tempDir()
  try {
    const engine = await openTestEngine({ dataDir: dir.path })
    const file = randomFile(join(dir.path, 'share', 'q.bin'), 4_000_000)
    const { infoHash } = await engine.share([file])
    let stopped = false
    let natClosed = false
    const r = await shutdown({ stopEvents: () => { stopped = true }, nat: { close: async () => { natClosed = true } }, engine })
    assert.equal(r.timedOut, false)
    assert.ok(r.ms < 3000, `${r.ms} ms`)
    assert.ok(stopped && natClosed)
    const saved = new JsonFileStore<PersistedState>(dir.path).get('torrents') ?? []
    const rec = saved.find((t) => t.infoHash === infoHash)
    assert.ok(rec?.resume, 'resume data saved')
    const hung = await shutdown({ stopEvents: () => {}, nat: { close: () => new Promise(() => {}) }, engine: null }, 200)
    assert.equal(hung.timedOut, true)
    assert.ok(hung.ms < 1000)
  } finally { dir.cleanup() }
})

test('tray and taskbar figures', () => {
  assert.equal(formatSpeed(0), '0 B/s')
  assert.equal(formatSpeed(1536), '1.5 KiB/s')
  assert.equal(formatSpeed(200 * 1024 * 1024), '200 MiB/s')
  assert.equal(overallProgress([]), null)
  assert.equal(overallProgress([summary('a', { state: 'seeding', progress: 1 })]), null)
  assert.equal(overallProgress([summary('a', { size: 100, progress: 0.5 }), summary('b', { size: 300, progress: 1, state: 'metadata' })]), 0.875)
})

test('content security policy: no eval, no inline or remote scripts, nothing embedded', () => {
  const csp = contentSecurityPolicy(null)
  assert.match(csp, /script-src 'self'(;|$)/)
  assert.doesNotMatch(csp, /unsafe-eval|\*|https?:/)
  assert.match(csp, /object-src 'none'/)
  assert.match(csp, /frame-ancestors 'none'/)
  assert.match(contentSecurityPolicy('http://127.0.0.1:5173'), /connect-src 'self' ws:\/\/127\.0\.0\.1:5173/)
})
