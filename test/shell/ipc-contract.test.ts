// The contract suite over Electron IPC (preload + main's handler + host + engine), and the
// IPC-specific guarantees: the sender-frame check and the exact preload surface.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { COMMAND_NAMES, QUERY_NAMES, EVENT_NAMES, IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL, PRELOAD_GLOBAL } from '../../main/contract/contract.ts'
import { join } from 'node:path'
import { tempDir, randomFile, waitFor } from '../helpers/fixtures.ts'
import { contractSuite } from './contract-suite.ts'
import { openIpcRig } from './ipc-transport.ts'
import { bundlePreload, loadPreload } from './preload-harness.ts'

/** Values made in the vm realm have its prototypes: compare their JSON. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v))

let code = ''
before(async () => { code = await bundlePreload() })

contractSuite('ipc', (dataDir) => openIpcRig(dataDir, code))

test('preload exposes exactly window.shoal with call, on and pathForFile, and requires only electron', () => {
  const p = loadPreload(code, async () => ({ ok: true, result: null }))
  assert.deepEqual([...p.exposed.keys()], [PRELOAD_GLOBAL])
  const api = p.exposed.get(PRELOAD_GLOBAL) as Record<string, unknown>
  assert.deepEqual(Object.keys(api).sort(), ['call', 'on', 'pathForFile'])
  assert.deepEqual([...new Set(p.required)], ['electron'])
  assert.deepEqual([...p.listening.keys()], [IPC_EVENT_CHANNEL])
})

test('preload: every contract call reaches IPC on the call channel; any other name never does', async () => {
  const p = loadPreload(code, async () => ({ ok: true, result: 'r' }))
  const api = p.exposed.get(PRELOAD_GLOBAL) as { call(n: string, a: unknown): Promise<unknown> }
  for (const name of [...COMMAND_NAMES, ...QUERY_NAMES]) assert.equal(await api.call(name, {}), 'r')
  assert.deepEqual(p.invokes.map((i) => i.channel), [...COMMAND_NAMES, ...QUERY_NAMES].map(() => IPC_CALL_CHANNEL))
  assert.deepEqual(p.invokes.map((i) => i.args[0]), [...COMMAND_NAMES, ...QUERY_NAMES])
  const before = p.invokes.length
  for (const bad of ['engine.eval', 'toString', 'constructor', '__proto__', '', 'torrent.add ', 42, null]) {
    await assert.rejects(api.call(bad as string, {}), (e: { code: string }) => e.code === 'BAD_ARGUMENT')
  }
  assert.equal(p.invokes.length, before, 'no rejected name reached ipcRenderer.invoke')
})

test('preload: failures come back as { code, message }', async () => {
  const p = loadPreload(code, async () => ({ ok: false, error: { code: 'DISK_FULL', message: 'The disk is full.' } }))
  const api = p.exposed.get(PRELOAD_GLOBAL) as { call(n: string, a: unknown): Promise<unknown> }
  await assert.rejects(api.call('torrents.list', {}), (e) => { assert.deepEqual(plain(e), { code: 'DISK_FULL', message: 'The disk is full.' }); return true })
})

test('preload: only contract events are forwarded, held until the page subscribes, without the IPC event object', () => {
  const p = loadPreload(code, async () => null)
  const api = p.exposed.get(PRELOAD_GLOBAL) as { on(e: string, fn: (...a: unknown[]) => void): () => void }
  const got: unknown[][] = []
  p.emit(IPC_EVENT_CHANNEL, 'stats.changed', { early: true })
  const off = api.on('stats.changed', (...a) => got.push(a))
  assert.deepEqual(got, [[{ early: true }]], 'the held event is delivered on subscription, payload only')
  p.emit(IPC_EVENT_CHANNEL, 'stats.changed', { n: 1 })
  p.emit(IPC_EVENT_CHANNEL, 'engine.secret', { n: 2 })
  p.emit(IPC_EVENT_CHANNEL, '__proto__', { n: 3 })
  assert.deepEqual(got, [[{ early: true }], [{ n: 1 }]])
  off()
  p.emit(IPC_EVENT_CHANNEL, 'stats.changed', { n: 4 })
  assert.equal(got.length, 2, 'unsubscribed')
  const unknown: unknown[] = []
  assert.equal(typeof api.on('engine.secret', (x) => unknown.push(x)), 'function')
  p.emit(IPC_EVENT_CHANNEL, 'engine.secret', { n: 5 })
  assert.deepEqual(unknown, [])
  for (const e of EVENT_NAMES) assert.equal(typeof api.on(e, () => {}), 'function')
})

test('preload: pathForFile goes to webUtils.getPathForFile', () => {
  const p = loadPreload(code, async () => null)
  const api = p.exposed.get(PRELOAD_GLOBAL) as { pathForFile(f: unknown): string }
  const file = { name: 'x' }
  assert.equal(api.pathForFile(file), '/picked/path')
  assert.deepEqual(p.pathsAsked, [file])
})

test('preload: pasting a magnet outside text fields adds it; text fields and handled pastes are left alone', async () => {
  const p = loadPreload(code, async () => ({ ok: true, result: { infoHash: 'x' } }))
  const magnet = `magnet:?xt=urn:btih:${'cd'.repeat(20)}&dn=pasted`
  assert.equal(p.paste(`look: ${magnet} `).defaultPrevented, true)
  await waitFor('the add call', () => p.invokes.length === 1, 2000)
  assert.deepEqual(plain(p.invokes[0]!.args), ['torrent.add', { source: { kind: 'uri', uri: magnet } }])
  assert.equal(p.paste(magnet, { tagName: 'INPUT' }).defaultPrevented, false)
  assert.equal(p.paste('no link here').defaultPrevented, false)
  assert.equal(p.invokes.length, 1)
})

test('main refuses calls from any frame but the app\'s own top frame', async () => {
  const dir = tempDir()
  const frames = [
    { url: 'https://evil.example/', parent: null },
    { url: 'file:///etc/passwd', parent: null },
    { url: 'app://shoal/index.html', parent: { url: 'app://shoal/index.html' } },
    { url: 'app://other/index.html', parent: null }
  ]
  try {
    for (const frame of frames) {
      const rig = await openIpcRig(dir.path, code, frame)
      try {
        await assert.rejects(rig.bridge.call('torrents.list', {}), (e: { code: string }) => e.code === 'FORBIDDEN', frame.url)
        const direct = await rig.ipcMain.invokeFrom(null, IPC_CALL_CHANNEL, 'torrents.list', {}) as { ok: boolean; error: { code: string } }
        assert.equal(direct.ok, false)
        assert.equal(direct.error.code, 'FORBIDDEN')
      } finally { await rig.close() }
    }
  } finally { dir.cleanup() }
})

test('ipc: desktop calls reach the desktop adapter', async () => {
  const dir = tempDir()
  const rig = await openIpcRig(dir.path, code)
  try {
    assert.deepEqual(await rig.bridge.call('shell.pickTorrentFiles', {}), [])
    assert.deepEqual(await rig.bridge.call('shell.pickShareFolder', {}), [])
    assert.deepEqual(await rig.bridge.call('app.capabilities', {}), { transport: 'ipc', desktop: true, version: '0.0.0-test' })
    assert.deepEqual(rig.desktopCalls, ['pickTorrentFiles', 'pickShareFolder'])

    // Open and reveal point at the real files, also for files shared from two different folders.
    const a = randomFile(join(dir.path, 'here', 'a.bin'), 40_000)
    const b = randomFile(join(dir.path, 'there', 'b.bin'), 50_000)
    const single = randomFile(join(dir.path, 'one', 'single.bin'), 30_000)
    const two = await rig.bridge.call('torrent.share', { paths: [a, b] }) as { infoHash: string }
    const one = await rig.bridge.call('torrent.share', { paths: [single] }) as { infoHash: string }
    const names = (await rig.bridge.call('torrents.detail', { infoHash: two.infoHash }) as { files: Array<{ path: string }> }).files.map((f) => f.path)
    const indexOfB = names.findIndex((n) => n.endsWith('b.bin'))
    assert.ok(indexOfB >= 0, names.join(', '))
    await rig.bridge.call('shell.openPath', { infoHash: two.infoHash, fileIndex: indexOfB, reveal: false })
    await rig.bridge.call('shell.openPath', { infoHash: two.infoHash, fileIndex: 1 - indexOfB, reveal: true })
    await rig.bridge.call('shell.openPath', { infoHash: one.infoHash, reveal: true })
    assert.deepEqual(rig.desktopCalls.slice(2), [`open ${b}`, `reveal ${a}`, `reveal ${single}`])
    await assert.rejects(rig.bridge.call('shell.openPath', { infoHash: two.infoHash, fileIndex: 7, reveal: false }), (e: { code: string }) => e.code === 'BAD_ARGUMENT')
  } finally { await rig.close(); dir.cleanup() }
})
