// One contract suite for every transport (Electron IPC through the real preload, and the
// WebSocket server): each transport provides a client with the renderer's API, and the suite
// checks that every contract entry is served, bad arguments are rejected with a typed error, events
// arrive batched, and a full snapshot is available after a reload.
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import {
  COMMAND_NAMES, QUERY_NAMES, ERROR_CODES,
  type BridgeError, type CallArgs, type CallName, type EventName, type EventPayloads
} from '../../main/contract/contract.ts'
import { randomFile, tempDir, waitFor } from '../helpers/fixtures.ts'

export interface ContractClient {
  call(name: string, args: unknown): Promise<unknown>
  on<E extends EventName>(event: E, listener: (payload: EventPayloads[E]) => void): () => void
}

export interface TransportUnderTest {
  client: ContractClient
  /** Whether the host has a desktop adapter (Electron) or not (`shoal serve`). */
  desktop: boolean
  close(): Promise<void>
}

function isBridgeError (e: unknown): e is BridgeError {
  return !!e && typeof e === 'object' && typeof (e as BridgeError).message === 'string' &&
    (ERROR_CODES as readonly string[]).includes((e as BridgeError).code)
}

async function rejection (p: Promise<unknown>): Promise<BridgeError> {
  try { await p } catch (e) {
    assert.ok(isBridgeError(e), `expected a { code, message } bridge error, got ${JSON.stringify(e)}`)
    return e
  }
  assert.fail('expected the call to be rejected')
}

/** Valid arguments for every call; the mapped type makes a missing contract entry a type error. */
function validArgs (infoHash: string, sharePath: string): { [N in CallName]: CallArgs<N> } {
  return {
    'torrent.add': { source: { kind: 'uri', uri: `magnet:?xt=urn:btih:${'ab'.repeat(20)}&dn=contract-suite` }, paused: true },
    'torrent.share': { paths: [sharePath] },
    'torrent.pause': { infoHashes: [infoHash] },
    'torrent.resume': { infoHashes: [infoHash] },
    'torrent.recheck': { infoHash },
    'torrent.setFilePriorities': { infoHash, files: [{ index: 0, priority: 'high' }] },
    'torrent.setSequential': { infoHash, sequential: true },
    'torrent.exportTorrent': { infoHash },
    'settings.update': { theme: 'dark' },
    'nat.refresh': {},
    'shell.openPath': { infoHash, reveal: true },
    'shell.pickTorrentFiles': {},
    'shell.pickShareFolder': {},
    'torrents.list': {},
    'torrents.detail': { infoHash },
    'peers.list': { infoHash },
    'peers.banned': { infoHash },
    'stats.get': {},
    'settings.get': {},
    'nat.status': {},
    'app.capabilities': {},
    // Last: it takes the torrent away.
    'torrent.remove': { infoHashes: [infoHash], deleteData: false }
  }
}

const DESKTOP_ONLY = new Set<string>(['shell.openPath', 'shell.pickTorrentFiles', 'shell.pickShareFolder'])

/** Registers the suite's tests; `open` starts a fresh host + transport for each test. */
export function contractSuite (transport: string, open: (dataDir: string) => Promise<TransportUnderTest>): void {
  const withTransport = (name: string, fn: (t: TestContext, tr: TransportUnderTest, dir: string) => Promise<void>) =>
    test(`${transport}: ${name}`, async (t) => {
      const dir = tempDir()
      const tr = await open(dir.path)
      try { await fn(t, tr, dir.path) } finally { await tr.close(); dir.cleanup() }
    })

  withTransport('every command and query is served with valid arguments', async (_t, tr, dir) => {
    const file = randomFile(join(dir, 'share', 'suite.bin'), 300_000)
    const shared = await tr.client.call('torrent.share', { paths: [file] }) as { infoHash: string }
    assert.match(shared.infoHash, /^[0-9a-f]{40}$/)
    const second = randomFile(join(dir, 'share', 'second.bin'), 50_000)
    const args = validArgs(shared.infoHash, second)
    const served = new Set<string>()
    for (const [name, a] of Object.entries(args)) {
      try {
        await tr.client.call(name, a)
      } catch (e) {
        const err = await rejection(Promise.reject(e))
        assert.ok(!tr.desktop && DESKTOP_ONLY.has(name) && err.code === 'UNSUPPORTED',
          `${name} failed with valid arguments: ${err.code} ${err.message}`)
      }
      served.add(name)
    }
    assert.deepEqual([...served].sort(), [...COMMAND_NAMES, ...QUERY_NAMES].sort())
  })

  withTransport('bad arguments and unknown names are rejected with BAD_ARGUMENT', async (_t, tr) => {
    for (const name of [...COMMAND_NAMES, ...QUERY_NAMES]) {
      const err = await rejection(tr.client.call(name, 'not an object'))
      assert.equal(err.code, 'BAD_ARGUMENT', `${name}: ${err.message}`)
    }
    const cases: Array<[string, unknown]> = [
      ['torrents.detail', { infoHash: 'xyz' }],
      ['torrent.pause', { infoHashes: [] }],
      ['torrent.remove', { infoHashes: ['a'.repeat(40)] }],
      ['settings.update', { port: 70000 }],
      ['settings.update', { encryption: 'sometimes' }],
      ['torrent.add', { source: { kind: 'uri', uri: '' } }],
      ['torrent.add', { source: { kind: 'script', code: 'x' } }],
      ['torrent.share', { paths: [] }],
      ['engine.eval', {}],
      ['constructor', {}],
      ['__proto__', {}]
    ]
    for (const [name, a] of cases) {
      const err = await rejection(tr.client.call(name, a))
      assert.equal(err.code, 'BAD_ARGUMENT', `${name} ${JSON.stringify(a)}: ${err.code} ${err.message}`)
    }
    const missing = await rejection(tr.client.call('torrents.detail', { infoHash: 'c'.repeat(40) }))
    assert.equal(missing.code, 'NOT_FOUND')
  })

  withTransport('events arrive batched, and torrents.list is a full snapshot after a reload', async (_t, tr, dir) => {
    const seen: Array<{ event: EventName; at: number; payload: unknown }> = []
    const offs = (['torrents.changed', 'share.progress', 'stats.changed'] as const).map((event) =>
      tr.client.on(event, (payload) => { seen.push({ event, at: Date.now(), payload }) }))
    const file = randomFile(join(dir, 'share', 'events.bin'), 2_000_000)
    const { infoHash } = await tr.client.call('torrent.share', { paths: [file] }) as { infoHash: string }
    await waitFor('share.progress done', () => seen.some((s) => s.event === 'share.progress' && (s.payload as EventPayloads['share.progress']).phase === 'done'), 20000)
    await waitFor('the torrent in torrents.changed', () => seen.some((s) => s.event === 'torrents.changed' &&
      (s.payload as EventPayloads['torrents.changed']).added.some((t) => t.infoHash === infoHash)), 10000)
    // Watch for two seconds: at most a few messages per second of each kind.
    const from = Date.now()
    await new Promise((r) => setTimeout(r, 2000))
    for (const event of ['torrents.changed', 'stats.changed'] as const) {
      const n = seen.filter((s) => s.event === event && s.at >= from).length
      assert.ok(n <= 10, `${event}: ${n} messages in 2 s`)
    }
    for (const off of offs) off()
    // A reloaded page starts from the snapshot.
    const list = await tr.client.call('torrents.list', {}) as Array<{ infoHash: string; name: string; state: string }>
    const t = list.find((x) => x.infoHash === infoHash)
    assert.ok(t, 'the shared torrent is in the snapshot')
    assert.equal(t.name, 'events.bin')
    assert.equal(t.state, 'seeding')
  })
}
