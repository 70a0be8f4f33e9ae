// Seeded generators of hostile bridge messages, shared by the IPC and WebSocket fuzz tests. Every
// generated case says what the bridge must do with it: 'bad' = refused with BAD_ARGUMENT, 'any' =
// a result or any clear { code, message } error (valid shape, unknown torrent, desktop-only call).
import { COMMAND_NAMES, QUERY_NAMES } from '../../main/contract/contract.ts'
import { Gen as BaseGen } from '../helpers/prng.ts'

/** Messages draw strings from a wider alphabet than the parser fuzz: quotes, backslashes, non-ASCII. */
export class Gen extends BaseGen {
  constructor (seed: number) { super(seed, 'abcdefghijklmnopqrstuvwxyz0123456789-_.:/ "\\\u00e9\u4e2d\ud83d\ude00') }
}

export const CALL_NAMES: readonly string[] = [...COMMAND_NAMES, ...QUERY_NAMES]
/** Calls that change nothing, or nothing that matters here, when their arguments happen to be valid. */
const HARMLESS = new Set(['torrents.list', 'torrents.detail', 'peers.list', 'stats.get', 'settings.get', 'nat.status',
  'app.capabilities', 'torrent.pause', 'torrent.resume', 'torrent.recheck', 'torrent.setSequential', 'torrent.setFilePriorities',
  'torrent.exportTorrent', 'shell.pickTorrentFiles', 'shell.pickShareFolder', 'shell.openPath', 'nat.refresh'])

export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'then'] as const
const UNKNOWN_NAMES = ['', ' ', 'torrent.add ', 'TORRENTS.LIST', 'engine.eval', 'torrent.format', 'subscribe', 'unsubscribe',
  'hello', 'auth', 'torrents.list\u0000', 'torrent', '.', 'settings.update.port', 'process.exit', 'require', ...PROTO_KEYS]
const HASH = 'ab'.repeat(20)

/** Any JSON value, leaning towards what breaks things: prototype keys, wrong types, deep or long values. */
export function hostileValue (g: Gen, depth = 0): unknown {
  switch (g.int(depth > 4 ? 5 : 8)) {
    case 0: return g.pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, -0, 65536, 4294967296])
    case 1: return g.pick([true, false, null])
    case 2: return g.str(g.int(40))
    case 3: return g.pick(['', 'magnet:?xt=urn:btih:', HASH, HASH.toUpperCase(), '../../etc/passwd', '/etc/passwd', 'A'.repeat(g.range(1, 5000)), '\u0000', '\ud800'])
    case 4: return g.pick(PROTO_KEYS)
    case 5: { const a: unknown[] = []; for (let i = g.int(5); i > 0; i--) a.push(hostileValue(g, depth + 1)); return a }
    default: {
      const o: Record<string, unknown> = {}
      for (let i = g.int(5); i > 0; i--) {
        const k = g.chance(0.4) ? g.pick(PROTO_KEYS) : g.chance(0.5) ? g.pick(['source', 'kind', 'uri', 'infoHash', 'infoHashes', 'paths', 'port', 'downloadPath', 'files', 'index', 'priority', 'deleteData']) : g.str(g.int(10))
        // Own properties named __proto__ and the like, as JSON.parse makes them.
        Object.defineProperty(o, k, { value: hostileValue(g, depth + 1), enumerable: true, writable: true, configurable: true })
      }
      return o
    }
  }
}

export function deepNest (depth: number): unknown {
  let v: unknown = 'bottom'
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { source: v }
  return v
}

/** Valid arguments with one thing made wrong: each must be refused. */
function nearlyValid (g: Gen): { name: string; args: unknown } {
  const wrong = (): unknown => g.pick([42, -1, null, [], {}, [HASH.toUpperCase()], HASH.toUpperCase(), 'A'.repeat(70000), { __proto__: null }])
  const wrongType = (): unknown => g.pick([42, -1, null, [], {}, [HASH], { __proto__: null }])
  const cases: Array<() => { name: string; args: unknown }> = [
    () => ({ name: 'torrent.add', args: { source: { kind: g.pick(['uri', 'torrentFile', 'torrentBytes', 'ftp', '__proto__', 42]), uri: wrongType(), path: wrongType(), base64: wrongType() } } }),
    () => ({ name: 'torrent.add', args: { source: { kind: 'uri', uri: 'x'.repeat(65537) } } }),
    () => ({ name: 'torrent.add', args: { source: { kind: 'uri', uri: `magnet:?xt=urn:btih:${HASH}` }, savePath: wrongType(), paused: true } }),
    () => ({ name: 'torrent.add', args: { source: { kind: 'uri', uri: `magnet:?xt=urn:btih:${HASH}` }, paused: true, selectFiles: [g.pick([-1, 1.5, 'a', null])] } }),
    () => ({ name: 'torrent.share', args: { paths: g.pick([[], 'x', [42], [''], Array.from({ length: 1001 }, () => '/tmp/x')]) } }),
    () => ({ name: 'torrent.share', args: { paths: ['/nonexistent-shoal-fuzz'], options: { pieceLength: g.pick([3, 16383, 1e9, 'big']) } } }),
    () => ({ name: 'torrent.remove', args: { infoHashes: [HASH], deleteData: g.pick(['yes', 1, null]) } }),
    () => ({ name: 'torrent.remove', args: { infoHashes: g.pick([[], [HASH.slice(1)], [HASH.toUpperCase()], HASH, Array.from({ length: 10001 }, () => HASH)]), deleteData: false } }),
    () => ({ name: g.pick(['torrent.pause', 'torrent.resume']), args: { infoHashes: wrong() } }),
    () => ({ name: 'torrent.setFilePriorities', args: { infoHash: HASH, files: g.pick([[], [{ index: -1, priority: 'high' }], [{ index: 0, priority: 'urgent' }], [{ index: '0', priority: 'low' }]]) } }),
    () => ({ name: 'settings.update', args: { [g.pick(['port', 'maxConnections', 'downloadPath', 'dht', 'encryption', 'theme', 'language', 'stunServers', 'seedRatioLimit', 'maxDownloadSpeed'])]: g.pick([-5, 70000, 0.5, '', 'neon', null, ['bad host:99999999'], Array.from({ length: 17 }, () => 'a:1'), { __proto__: null }]), theme: g.pick(['neon', 7, null]) } }),
    () => ({ name: g.pick(['torrents.detail', 'torrent.recheck', 'torrent.exportTorrent']), args: { infoHash: wrong() } }),
    () => ({ name: 'shell.openPath', args: { infoHash: HASH, reveal: wrong(), fileIndex: -1 } }),
    () => ({ name: 'peers.list', args: { infoHash: g.pick([42, '', HASH + '0']) } }),
    () => ({ name: g.pick(CALL_NAMES), args: g.pick(['a string', 42, true, [1, 2], [{}]]) })
  ]
  return g.pick(cases)()
}

export interface CallCase { name: unknown; args: unknown; expect: 'bad' | 'any'; kind: string }

/** One hostile call: a contract name or not, arguments valid or not. */
export function hostileCall (g: Gen): CallCase {
  const k = g.int(10)
  if (k < 2) return { name: g.pick(UNKNOWN_NAMES), args: hostileValue(g), expect: 'bad', kind: 'unknown name' }
  if (k === 2) return { name: g.str(g.range(1, 300)), args: {}, expect: 'bad', kind: 'random name' }
  if (k < 6) { const c = nearlyValid(g); return { ...c, expect: 'bad', kind: 'wrong arguments' } }
  if (k < 8) {
    // Random shapes for real names: mostly refused; some fit (zod drops unknown keys).
    // (Only harmless names: a random value that happened to fit settings.update could move the download folder.)
    return { name: g.pick([...HARMLESS]), args: hostileValue(g), expect: 'any', kind: 'random arguments' }
  }
  if (k === 8) {
    // Prototype-pollution shapes, as JSON.parse would build them.
    const name = g.pick(['torrents.list', 'stats.get', 'settings.get', 'peers.list', 'torrents.detail'])
    const json = g.pick([
      '{"__proto__":{"polluted":"yes","infoHash":"' + HASH + '"}}',
      '{"constructor":{"prototype":{"polluted":"yes"}}}',
      '{"infoHash":{"__proto__":{"length":40}}}',
      '{"__proto__":null}'
    ])
    return { name, args: JSON.parse(json), expect: 'any', kind: 'prototype keys' }
  }
  return { name: g.pick(['torrents.list', 'stats.get', 'settings.get', 'app.capabilities', 'nat.status']), args: g.pick([{}, undefined, { extra: hostileValue(g) }]), expect: 'any', kind: 'valid' }
}
