// Bad input of every kind gives a clear typed error, loses nothing, writes nothing outside the folder.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { readdirSync, existsSync, mkdirSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import bencode from 'bencode'
import WebTorrent from 'webtorrent'
import { tempDir, randomFile, waitFor } from '../helpers/fixtures.ts'
import { openTestEngine } from '../helpers/engines.ts'
import { EngineError } from '../../main/engine/errors.ts'
import type { ErrorCode } from '../../main/contract/contract.ts'

const b = (s: string) => Buffer.from(s)

function torrent (info: Record<string, unknown>): Buffer {
  return Buffer.from(bencode.encode({ announce: b('http://127.0.0.1:1/announce'), info }))
}
function pieces (n: number): Buffer { return Buffer.alloc(20 * n, 7) }
const multi = (paths: string[][], extra: Record<string, unknown> = {}) => torrent({
  name: b('album'), 'piece length': 16384, pieces: pieces(paths.length), files: paths.map((p) => ({ length: 16384, path: p.map(b) })), ...extra
})

const HOSTILE: Array<[string, Buffer, ErrorCode]> = [
  ['a ".." path component', multi([['..', '..', 'evil.sh']]), 'UNSAFE_PATH'],
  ['an absolute path component', multi([['/etc', 'passwd']]), 'UNSAFE_PATH'],
  ['a backslash traversal', multi([['..\\..\\evil']]), 'UNSAFE_PATH'],
  ['a Windows device name', multi([['CON']]), 'UNSAFE_PATH'],
  ['a drive letter', multi([['C:', 'x']]), 'UNSAFE_PATH'],
  ['an over-long name', multi([['x'.repeat(300)]]), 'UNSAFE_PATH'],
  ['a ".." torrent name', torrent({ name: b('..'), 'piece length': 16384, pieces: pieces(1), length: 16384 }), 'UNSAFE_PATH'],
  ['an empty path component', multi([['a', '', 'b']]), 'UNSAFE_PATH'],
  ['two files with one path', multi([['a'], ['A']]), 'UNSAFE_PATH'],
  ['a zero piece length', torrent({ name: b('x'), 'piece length': 0, pieces: pieces(1), length: 10 }), 'BAD_TORRENT'],
  ['an absurd piece length', torrent({ name: b('x'), 'piece length': 2 ** 40, pieces: pieces(1), length: 10 }), 'BAD_TORRENT'],
  ['too few piece hashes', torrent({ name: b('x'), 'piece length': 16384, pieces: pieces(1), length: 16384 * 5 }), 'BAD_TORRENT'],
  ['an absurd piece count', torrent({ name: b('x'), 'piece length': 16384, pieces: Buffer.alloc(20 * (5 * 1024 * 1024)), length: 16384 * 5 * 1024 * 1024 }), 'BAD_TORRENT'],
  ['a ragged hash list', torrent({ name: b('x'), 'piece length': 16384, pieces: Buffer.alloc(21), length: 16384 }), 'BAD_TORRENT'],
  ['a negative length', torrent({ name: b('x'), 'piece length': 16384, pieces: pieces(1), length: -5 }), 'BAD_TORRENT'],
  ['no info dictionary', Buffer.from(bencode.encode({ announce: b('x') })), 'BAD_TORRENT'],
  ['not bencode at all', Buffer.from('<html>404 not found</html>'), 'BAD_TORRENT'],
  ['truncated bencode', multi([['a']]).subarray(0, 40), 'BAD_TORRENT'],
  ['an empty file', Buffer.alloc(0), 'BAD_TORRENT']
]

const BAD_MAGNETS = [
  'magnet:?xt=urn:btih:12345',
  'magnet:?dn=only-a-name',
  'magnet:?xt=urn:btmh:1220' + 'a'.repeat(64),
  'http://example.invalid/file.torrent',
  'magnet:?xt=urn:btih:' + 'z'.repeat(40)
]

function listTree (dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true }).map(String).sort()
}

async function rejects (p: Promise<unknown>, code: ErrorCode, what: string): Promise<EngineError> {
  try {
    await p
  } catch (err) {
    assert.ok(err instanceof EngineError, `${what}: an EngineError, got ${String(err)}`)
    assert.equal(err.code, code, `${what}: ${err.message}`)
    assert.ok(err.message.length > 20 && !err.message.includes('undefined'), `${what}: a clear sentence, got "${err.message}"`)
    return err
  }
  assert.fail(`${what}: was accepted`)
}

test('hostile and malformed .torrent files are refused with clear errors and write nothing', async () => {
  const d = tempDir()
  const engine = await openTestEngine({ dataDir: join(d.path, 'data') })
  try {
    const before = listTree(d.path).filter((p) => !p.startsWith('data'))
    for (const [what, bytes, code] of HOSTILE) {
      await rejects(engine.add({ kind: 'torrentBytes', base64: bytes.toString('base64') }), code, what)
    }
    assert.deepEqual(engine.list(), [], 'nothing was added')
    assert.deepEqual(listTree(d.path).filter((p) => !p.startsWith('data')), before, 'no file was created anywhere')
  } finally { await engine.close(); d.cleanup() }
})

test('broken magnets, missing files, duplicates and vanished shares give typed errors', async () => {
  const d = tempDir()
  const engine = await openTestEngine({ dataDir: join(d.path, 'data') })
  try {
    for (const m of BAD_MAGNETS) await rejects(engine.add(m), m.startsWith('http') ? 'PATH_UNREADABLE' : 'BAD_MAGNET', m)
    await rejects(engine.add({ kind: 'uri', uri: 'not a magnet' }), 'BAD_MAGNET', 'plain text')
    await rejects(engine.add({ kind: 'torrentFile', path: join(d.path, 'nope.torrent') }), 'PATH_UNREADABLE', 'a missing .torrent')
    await rejects(engine.share([join(d.path, 'vanished')]), 'PATH_UNREADABLE', 'a vanished share')
    mkdirSync(join(d.path, 'empty'))
    await rejects(engine.share([join(d.path, 'empty')]), 'BAD_ARGUMENT', 'an empty folder')
    const hash = 'c'.repeat(40)
    await engine.add(hash, { paused: true })
    const dup = await rejects(engine.add(`magnet:?xt=urn:btih:${hash}`), 'DUPLICATE', 'the same info hash twice')
    assert.equal(dup.infoHash, hash)
    assert.equal(engine.list().length, 1, 'the first copy is kept')
  } finally { await engine.close(); d.cleanup() }
})

test('hostile metadata from a peer (magnet download) is refused before any file is written', async () => {
  const d = tempDir()
  const downloads = join(d.path, 'box', 'downloads')
  const engine = await openTestEngine({ dataDir: join(d.path, 'data'), settings: { downloadPath: downloads } })
  // A raw webtorrent client plays the hostile peer: it serves the info dictionary as given.
  const evil = new WebTorrent({ dht: false, lsd: false, tracker: false, natUpnp: false, natPmp: false, utp: false })
  try {
    const bytes = multi([['..', '..', '..', 'escaped.txt'], ['ok.txt']])
    const info = (bencode.decode(bytes) as { info: unknown }).info
    const infoHash = createHash('sha1').update(bencode.encode(info)).digest('hex')
    await new Promise<void>((r) => evil.once('listening', () => r()))
    evil.add(bytes, { path: join(d.path, 'evil-store') })
    await engine.add(`magnet:?xt=urn:btih:${infoHash}`, { peers: [`127.0.0.1:${evil.torrentPort}`] })
    const t = await waitFor('metadata refused', () => engine.list().find((x) => x.state === 'error'), 30000)
    assert.equal(t.errorCode, 'UNSAFE_PATH', t.error ?? '')
    assert.deepEqual(listTree(join(d.path, 'box')).filter((p) => p !== 'downloads'), [], 'nothing written in or beside the download folder')
    assert.ok(!existsSync(join(d.path, 'escaped.txt')) && !existsSync(join(d.path, '..', 'escaped.txt')))
  } finally {
    await new Promise<void>((r) => evil.destroy(() => r()))
    await engine.close()
    d.cleanup()
  }
})

test('disk full: the download stops with a clear DISK_FULL error and the torrent is kept', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to mount a small tmpfs')
  const d = tempDir()
  const small = join(d.path, 'small')
  mkdirSync(small)
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small])
  const seeder = await openTestEngine({ dataDir: join(d.path, 'seeder') })
  const leecher = await openTestEngine({ dataDir: join(d.path, 'leecher'), settings: { downloadPath: small } })
  try {
    const src = randomFile(join(d.path, 'src', 'big.bin'), 3 * 1024 * 1024)
    const shared = await seeder.share([src], { pieceLength: 65536 })
    await leecher.add(shared.magnetURI, { peers: [`127.0.0.1:${seeder.listeningPort}`] })
    const failed = await waitFor('disk full reported', () => leecher.list().find((x) => x.state === 'error'), 60000)
    assert.equal(failed.errorCode, 'DISK_FULL', failed.error ?? '')
    assert.match(failed.error ?? '', /disk is full/i)
    assert.equal(leecher.list().length, 1, 'the torrent is kept, ready to resume')
  } finally {
    await leecher.close()
    await seeder.close()
    execFileSync('umount', [small])
    d.cleanup()
  }
})
