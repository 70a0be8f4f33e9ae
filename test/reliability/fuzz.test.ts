// Fuzzing the .torrent and magnet input paths: at least 10,000 generated and mutated inputs per run,
// through parseTorrentBytes / parseUri, with a sample through Engine.add. Every input either parses
// or is refused with an EngineError (known code, a sentence); nothing hangs; nothing is written
// outside the download folder. The PRNG seed is fixed (SHOAL_FUZZ_SEED overrides it) and printed,
// so a failure names the seed and the input index that reproduce it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join, resolve, relative, isAbsolute, sep } from 'node:path'
import { readdirSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { spawn } from 'node:child_process'
import bencode from 'bencode'
import { tempDir } from '../helpers/fixtures.ts'
import { openTestEngine } from '../helpers/engines.ts'
import { EngineError } from '../../main/engine/errors.ts'
import { parseTorrentBytes, parseUri } from '../../main/engine/torrent-input.ts'
import type { ParsedInput } from '../../main/engine/torrent-input.ts'
import { ERROR_CODES } from '../../main/contract/contract.ts'
import { writeFigures } from './figures.ts'
import { Gen } from '../helpers/prng.ts'

const SEED = Number(process.env.SHOAL_FUZZ_SEED ?? 0x5_40a1)
const PARSER_INPUTS = Number(process.env.SHOAL_FUZZ_INPUTS ?? 10_000)
const ENGINE_INPUTS = Number(process.env.SHOAL_FUZZ_ENGINE_INPUTS ?? 300)
/** Hostile names carry this marker, so anything they create anywhere can be found afterwards. */
const MARK = 'shoalfuzz'
const KNOWN_CODES = new Set<string>(ERROR_CODES)
const PARSE_CODES = new Set(['BAD_MAGNET', 'BAD_TORRENT', 'UNSAFE_PATH'])


// ------------------------------------------------------------ generators

const HOSTILE_PARTS = [
  '..', '.', '', '/', `/tmp/${MARK}-abs`, `..${sep}${MARK}`, `../../${MARK}-up`, `..\\..\\${MARK}-bs`, `C:\\${MARK}`, `c:${MARK}`,
  'CON', 'con.txt', 'NUL', 'aux.tar.gz', 'COM1', 'LPT9', 'prn', `${MARK}\u0000nul`, `${MARK}\n`, `${MARK}\u001b[31m`,
  `${MARK}-${'x'.repeat(256)}`, `${MARK}-${'é'.repeat(130)}`, `${MARK}/nested`, `\\\\server\\share\\${MARK}`, `~/${MARK}`,
  `${MARK} `, `${MARK}.`, `${MARK}\u202eexe.txt`, `${MARK}\ud800`, '\u00a0', `${MARK}:stream`
] as const

const SAFE_KEYS = ['announce', 'announce-list', 'info', 'name', 'name.utf-8', 'piece length', 'pieces', 'length', 'files',
  'path', 'path.utf-8', 'private', 'url-list', 'comment', 'created by', 'creation date', 'encoding', 'md5sum', 'nodes'] as const

function safeName (g: Gen): string { return `${MARK}-${g.str(g.range(1, 12))}` }

function hostileOrSafe (g: Gen): string { return g.chance(0.5) ? g.pick(HOSTILE_PARTS) : safeName(g) }

/** A random bencodable value; keys lean towards the ones a .torrent uses. */
function randomValue (g: Gen, depth: number): unknown {
  const k = g.int(depth > 3 ? 3 : 6)
  switch (k) {
    case 0: return g.pick([0, 1, -1, 16384, 2 ** 31, -(2 ** 31), 2 ** 53 - 1, -(2 ** 53) + 1, g.range(-1e9, 1e9)])
    case 1: return Buffer.from(g.chance(0.5) ? hostileOrSafe(g) : g.str(g.int(30)))
    case 2: return g.bytes(g.pick([0, 1, 19, 20, 21, 40, 60]))
    case 3: { const a = []; for (let i = g.int(5); i > 0; i--) a.push(randomValue(g, depth + 1)); return a }
    default: {
      const o: Record<string, unknown> = {}
      for (let i = g.int(6); i > 0; i--) o[g.chance(0.8) ? g.pick(SAFE_KEYS) : g.str(g.range(0, 8))] = randomValue(g, depth + 1)
      return o
    }
  }
}

/** A well-formed .torrent (single or multi file), announcing only to a closed loopback port. */
function validTorrentObject (g: Gen): Record<string, unknown> {
  const pieceLength = g.pick([16384, 32768, 65536, 262144])
  const multi = g.chance(0.5)
  const info: Record<string, unknown> = { name: Buffer.from(safeName(g)), 'piece length': pieceLength }
  let total = 0
  if (multi) {
    const files = []
    for (let i = g.range(1, 6); i > 0; i--) {
      const length = g.range(0, 3 * pieceLength)
      total += length
      const path = []
      for (let d = g.range(1, 3); d > 0; d--) path.push(Buffer.from(safeName(g) + i + d))
      files.push({ length, path })
    }
    info.files = files
  } else {
    total = g.range(1, 5 * pieceLength)
    info.length = total
  }
  info.pieces = g.bytes(20 * Math.ceil(total / pieceLength))
  const t: Record<string, unknown> = { announce: Buffer.from('http://127.0.0.1:1/announce'), info }
  if (g.chance(0.3)) t['announce-list'] = [[Buffer.from('http://127.0.0.1:1/announce')], [Buffer.from('udp://127.0.0.1:1')]]
  if (g.chance(0.2)) t['url-list'] = [Buffer.from('http://127.0.0.1:1/seed/')]
  return t
}

/** A valid torrent with one to three fields changed: hostile names, bad geometry, swapped types. */
function mutatedFieldsTorrent (g: Gen): Buffer {
  const t = validTorrentObject(g)
  const info = t.info as Record<string, unknown>
  for (let n = g.range(1, 3); n > 0; n--) {
    switch (g.int(10)) {
      case 0: info.name = Buffer.from(g.pick(HOSTILE_PARTS)); break
      case 1: info['name.utf-8'] = Buffer.from(g.pick(HOSTILE_PARTS)); break
      case 2: info['piece length'] = g.pick([0, 1, -16384, 1023, 2 ** 40, 2 ** 53 + 2, 16383, 3]); break
      case 3: info.pieces = g.bytes(g.pick([0, 1, 19, 21, 39, 41, 20 * g.range(0, 10)])); break
      case 4: {
        const files: unknown = info.files
        const f: unknown = Array.isArray(files) && files.length ? g.pick(files) : null
        if (f !== null && typeof f === 'object' && !Array.isArray(f) && !(f instanceof Uint8Array)) {
          const depth = g.chance(0.1) ? 70 : g.range(1, 4)
          const path = []
          for (let d = 0; d < depth; d++) path.push(Buffer.from(hostileOrSafe(g)))
          ;(f as Record<string, unknown>)[g.chance(0.8) ? 'path' : 'path.utf-8'] = path
        } else info.length = g.pick([-1, 0, 2 ** 53, 2 ** 60])
        break
      }
      case 5: info[g.pick(['name', 'piece length', 'pieces', 'length', 'files', 'private'])] = randomValue(g, 2); break
      case 6: { const files = info.files; if (Array.isArray(files)) files.push(files[0]); else info.files = []; break }
      case 7: t.info = randomValue(g, 1); return Buffer.from(bencode.encode(t))
      case 8: t[g.pick(['announce', 'announce-list', 'url-list'])] = randomValue(g, 1); break
      default: delete info[g.pick(['name', 'piece length', 'pieces', 'length', 'files'])]
    }
  }
  return Buffer.from(bencode.encode(t))
}

/** Byte-level damage to a valid .torrent: flips, truncation, splices, insertions, duplication. */
function mutatedBytes (g: Gen): Buffer {
  let b = Buffer.from(bencode.encode(validTorrentObject(g)))
  for (let n = g.range(1, 4); n > 0; n--) {
    switch (g.int(6)) {
      case 0: for (let i = g.range(1, 8); i > 0; i--) { const at = g.int(b.length); b[at] = b[at]! ^ (1 << g.int(8)) } break
      case 1: b = b.subarray(0, g.int(b.length)); break
      case 2: { const o = Buffer.from(bencode.encode(validTorrentObject(g))); b = Buffer.concat([b.subarray(0, g.int(b.length)), o.subarray(g.int(o.length))]); break }
      case 3: { const at = g.int(b.length + 1); b = Buffer.concat([b.subarray(0, at), Buffer.from(g.pick(['i', 'e', 'l', 'd', ':', '0', '9', '-', '99999999999:', 'i-0e', 'i01e', 'le', 'de'])), b.subarray(at)]); break }
      case 4: { const at = g.int(b.length); const len = g.range(1, 40); b = Buffer.concat([b.subarray(0, at + len), b.subarray(at)]); break }
      default: { const at = g.int(b.length); b = Buffer.concat([b.subarray(0, at), g.bytes(g.range(1, 16)), b.subarray(at)]) }
    }
    if (b.length === 0) break
  }
  return b
}

const HEX = '0123456789abcdef'
const B32 = 'abcdefghijklmnopqrstuvwxyz234567'

/** A magnet (or something nearly one) with random parameters; any address named is on loopback. */
function randomMagnet (g: Gen): string {
  const xt = (): string => {
    switch (g.int(8)) {
      case 0: return 'urn:btih:' + g.str(40, HEX)
      case 1: return 'urn:btih:' + g.str(32, B32).toUpperCase()
      case 2: return 'urn:btih:' + g.str(g.int(60), HEX + 'xyz%')
      case 3: return 'urn:btmh:1220' + g.str(64, HEX)
      case 4: return 'urn:sha1:' + g.str(32, B32)
      case 5: return 'urn:btih:' + g.str(40, HEX).toUpperCase()
      case 6: return g.str(g.int(20), 'urn:%bth0x')
      default: return 'urn:btih:' + g.str(g.pick([39, 41, 31, 33]), HEX)
    }
  }
  const params: string[] = []
  for (let i = g.range(0, 7); i > 0; i--) {
    const k = g.pick(['xt', 'xt', 'dn', 'tr', 'ws', 'x.pe', 'as', 'xs', 'kt', 'so', 'xl', 'mt', g.str(g.int(5)), 'xt.1', ''])
    let v: string
    switch (k) {
      case 'xt': case 'xt.1': v = xt(); break
      case 'dn': v = encodeURIComponent(hostileOrSafe(g).replace(/[\ud800-\udfff]/g, '\ufffd')); break
      case 'tr': v = encodeURIComponent(g.pick(['http://127.0.0.1:1/announce', 'udp://127.0.0.1:1', 'ws://127.0.0.1:1', 'not a url', 'javascript:alert(1)'])); break
      case 'ws': case 'as': case 'xs': v = encodeURIComponent(g.pick(['http://127.0.0.1:1/seed/', 'file:///etc/passwd', '../../x'])); break
      case 'x.pe': v = g.pick(['127.0.0.1:1', '127.0.0.1:0', '127.0.0.1:99999', '[::1]:1', 'garbage', '127.0.0.1']); break
      case 'so': v = g.pick(['0,2,4-6', '-1', '1-', 'a-b', '99999999999999']); break
      default: v = g.chance(0.5) ? g.str(g.int(20), 'abc%25%zz=&?#+ ') : String(g.int(1e6))
    }
    params.push(g.chance(0.05) ? k : `${k}=${v}`)
  }
  const head = g.pick(['magnet:?', 'magnet:?', 'magnet:?', 'MAGNET:?', 'magnet:', ' magnet:?', 'magnet:??', 'magnet:?&'])
  let s = head + params.join(g.chance(0.95) ? '&' : '&&')
  if (g.chance(0.1)) s = s.slice(0, g.int(s.length + 1))
  if (g.chance(0.05)) s = g.pick([g.str(40, HEX), g.str(32, B32), g.str(40, HEX + 'g'), ''])
  return s
}

type FuzzInput = { kind: 'torrent'; how: string; bytes: Buffer } | { kind: 'magnet'; how: string; uri: string }

function generate (g: Gen): FuzzInput {
  switch (g.int(10)) {
    case 0: case 1: return { kind: 'torrent', how: 'valid torrent, mutated fields', bytes: mutatedFieldsTorrent(g) }
    case 2: case 3: return { kind: 'torrent', how: 'valid torrent, mutated bytes', bytes: mutatedBytes(g) }
    case 4: return { kind: 'torrent', how: 'random bencode', bytes: Buffer.from(bencode.encode(randomValue(g, 0) as never)) }
    case 5: return { kind: 'torrent', how: 'random bytes', bytes: g.bytes(g.int(200)) }
    case 6: return { kind: 'torrent', how: 'valid torrent', bytes: Buffer.from(bencode.encode(validTorrentObject(g))) }
    default: return { kind: 'magnet', how: 'magnet', uri: randomMagnet(g) }
  }
}

function describe (i: number, input: FuzzInput): string {
  const body = input.kind === 'magnet' ? JSON.stringify(input.uri) : `base64 ${input.bytes.toString('base64')}`
  return `seed ${SEED} input #${i} (${input.how}): ${body.length > 2000 ? body.slice(0, 2000) + '…' : body}`
}

/** A refusal must be an EngineError with a code we know and a real sentence. */
function checkRefusal (err: unknown, allowed: Set<string>, where: string): string {
  if (!(err instanceof EngineError)) {
    throw new Error(`${where}: threw ${(err as Error)?.name ?? typeof err} instead of an EngineError: ${(err as Error)?.stack ?? String(err)}`)
  }
  assert.ok(KNOWN_CODES.has(err.code) && allowed.has(err.code), `${where}: unexpected code ${err.code} (${err.message})`)
  assert.ok(typeof err.message === 'string' && err.message.trim().length >= 10, `${where}: the refusal has no sentence: ${JSON.stringify(err.message)}`)
  return err.code
}

/** Whatever parses must describe files that stay inside the download folder. */
function checkAccepted (p: ParsedInput, where: string): void {
  assert.match(p.infoHash, /^[0-9a-f]{40}$/, `${where}: info hash`)
  if (!p.info) return
  const base = resolve('/downloads')
  for (const f of p.info.files) {
    const full = resolve(base, f.path)
    const rel = relative(base, full)
    assert.ok(rel !== '' && !rel.startsWith('..') && !isAbsolute(rel), `${where}: accepted a file path outside the folder: ${JSON.stringify(f.path)}`)
    for (const part of f.path.split('/')) {
      assert.ok(part !== '' && part !== '.' && part !== '..' && !/[\\\0]/.test(part) && Buffer.byteLength(part) <= 255, `${where}: accepted path part ${JSON.stringify(part)}`)
    }
  }
}

function parseOne (input: FuzzInput): ParsedInput {
  return input.kind === 'magnet' ? parseUri(input.uri) : parseTorrentBytes(input.bytes)
}

function listTree (dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true }).map(String).sort()
}

function markedInTmp (): string[] {
  return readdirSync(tmpdir()).filter((n) => n.toLowerCase().includes(MARK))
}

/**
 * A synchronous hang in a parser would block this process's own timers (and node:test's timeout),
 * so a separate process watches the clock and kills this one, naming the last input reached.
 */
function startWatchdog (ms: number, progressFile: string): { stop: () => void } {
  const code = `setTimeout(() => {
    let at = '?'; try { at = require('node:fs').readFileSync(${JSON.stringify(progressFile)}, 'utf8') } catch {}
    console.error('fuzz watchdog: the parser loop hung (over ${ms} ms, seed ${SEED}, last input reached #' + at + '); killing the test process')
    if (process.ppid === ${process.pid}) process.kill(${process.pid}, 'SIGKILL')
  }, ${ms})`
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'inherit', 'inherit'] })
  return { stop: () => { child.kill() } }
}

test(`fuzz: ${PARSER_INPUTS} generated and mutated inputs through parseTorrentBytes / parseUri (seed ${SEED})`, { timeout: Math.max(60_000, PARSER_INPUTS * 10) }, () => {
  const g = new Gen(SEED)
  const counts = { accepted: 0, refused: 0, byCode: {} as Record<string, number>, byKind: {} as Record<string, number> }
  const t0 = performance.now()
  let slowest = 0
  const progress = tempDir('shoal-fuzz-progress-')
  const progressFile = join(progress.path, 'at')
  const watchdog = startWatchdog(Math.max(60_000, PARSER_INPUTS * 10), progressFile)
  try {
    for (let i = 0; i < PARSER_INPUTS; i++) {
      if (i % 500 === 0) writeFileSync(progressFile, String(i))
      const input = generate(g)
      counts.byKind[input.how] = (counts.byKind[input.how] ?? 0) + 1
      const where = describe(i, input)
      const s = performance.now()
      try {
        checkAccepted(parseOne(input), where)
        counts.accepted++
      } catch (err) {
        if (err instanceof assert.AssertionError) throw err
        const code = checkRefusal(err, PARSE_CODES, where)
        counts.refused++
        counts.byCode[code] = (counts.byCode[code] ?? 0) + 1
      }
      const took = performance.now() - s
      slowest = Math.max(slowest, took)
      assert.ok(took < 2000, `${where}: took ${Math.round(took)} ms (a hang)`)
    }
  } finally {
    watchdog.stop()
    progress.cleanup()
  }
  const totalMs = Math.round(performance.now() - t0)
  console.log(`fuzz parsers: seed ${SEED}, ${PARSER_INPUTS} inputs in ${totalMs} ms (slowest ${slowest.toFixed(1)} ms): ` +
    `${counts.accepted} accepted, ${counts.refused} refused ${JSON.stringify(counts.byCode)}; kinds ${JSON.stringify(counts.byKind)}`)
  assert.ok(counts.accepted > PARSER_INPUTS * 0.05, 'the generator produces valid inputs too')
  assert.ok(counts.refused > PARSER_INPUTS * 0.3, 'the generator produces invalid inputs too')
  writeFigures('fuzz-parsers', { seed: SEED, inputsTried: PARSER_INPUTS, accepted: counts.accepted, refused: counts.refused, byCode: counts.byCode, crashes: 0, hangs: 0, totalMs, slowestMs: slowest })
})

test(`fuzz: ${ENGINE_INPUTS} inputs through Engine.add write nothing outside the download folder (seed ${SEED + 1})`, { timeout: Math.max(120_000, ENGINE_INPUTS * 1000) }, async () => {
  const g = new Gen(SEED + 1)
  const d = tempDir('shoal-fuzz-')
  // The download folder is three levels down, so "../../.." escapes would still land in this tree.
  const downloads = join(d.path, 'a', 'b', 'c', 'downloads')
  const outside = join(d.path, 'a')
  mkdirSync(downloads, { recursive: true })
  writeFileSync(join(d.path, 'a', 'sentinel'), 'x')
  const before = listTree(outside)
  const tmpBefore = new Set(markedInTmp())
  const engine = await openTestEngine({ dataDir: join(d.path, 'state'), settings: { downloadPath: downloads } })
  const counts = { accepted: 0, refused: 0, byCode: {} as Record<string, number> }
  const t0 = performance.now()
  try {
    for (let i = 0; i < ENGINE_INPUTS; i++) {
      // Mostly hostile/mutated .torrents (they reach file creation), some magnets.
      let input = generate(g)
      if (input.kind === 'magnet' && g.chance(0.6)) input = { kind: 'torrent', how: 'valid torrent, mutated fields', bytes: mutatedFieldsTorrent(g) }
      const where = describe(i, input)
      const source = input.kind === 'magnet'
        ? { kind: 'uri' as const, uri: input.uri.length ? input.uri : ' ' }
        : { kind: 'torrentBytes' as const, base64: input.bytes.toString('base64') || 'AA==' }
      const s = performance.now()
      let added: string | null = null
      try {
        const t = await Promise.race([
          engine.add(source),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${where}: engine.add did not settle in 10 s`)), 10_000).unref())
        ])
        added = t.infoHash
        counts.accepted++
      } catch (err) {
        if (err instanceof Error && err.message.includes('did not settle')) throw err
        const code = checkRefusal(err, new Set([...PARSE_CODES, 'DUPLICATE']), `engine.add ${where}`)
        counts.refused++
        counts.byCode[code] = (counts.byCode[code] ?? 0) + 1
      }
      if (added) await engine.remove([added], false)
      assert.ok(performance.now() - s < 10_000, `${where}: too slow`)
    }
  } finally {
    await engine.close()
  }
  const totalMs = Math.round(performance.now() - t0)
  const after = listTree(outside)
  const escaped = after.filter((p) => !before.includes(p) && !(p + sep).startsWith(join('b', 'c', 'downloads') + sep) && p !== join('b', 'c'))
  const tmpNew = markedInTmp().filter((n) => !tmpBefore.has(n))
  const marked = listTree(d.path).filter((p) => p.toLowerCase().includes(MARK) && !p.startsWith(join('a', 'b', 'c', 'downloads') + sep))
  console.log(`fuzz engine: seed ${SEED + 1}, ${ENGINE_INPUTS} adds in ${totalMs} ms: ${counts.accepted} accepted, ${counts.refused} refused ${JSON.stringify(counts.byCode)}; ` +
    `${listTree(downloads).length} entries inside the download folder, ${escaped.length + tmpNew.length + marked.length} outside`)
  d.cleanup()
  assert.deepEqual(escaped, [], 'nothing created outside the download folder')
  assert.deepEqual(tmpNew, [], 'nothing created in the temp folder by absolute paths')
  assert.deepEqual(marked, [], 'no fuzz-named file outside the download folder')
  assert.ok(counts.accepted > 0 && counts.refused > 0, 'both accepted and refused inputs went through the engine')
  writeFigures('fuzz-engine', { seed: SEED + 1, inputsTried: ENGINE_INPUTS, accepted: counts.accepted, refused: counts.refused, byCode: counts.byCode, filesOutsideDownloadFolder: 0, totalMs })
})
