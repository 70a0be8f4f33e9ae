// Piece hashing on the worker pool: the same digests as a plain SHA-1 over the concatenated files,
// however the work is split, run twice, and verification of chosen pieces.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { createHash } from 'node:crypto'
import bencode from 'bencode'
import { tempDir, randomFile, waitFor } from '../helpers/fixtures.ts'
import { runCliToEnd, runCli } from '../helpers/cli.ts'
import { startServe, WsApi } from '../e2e/harness.ts'
import { hashPieces, verifyPieces, hashThreads, type HashFile } from '../../main/engine/piece-hasher.ts'
import { HashPool } from '../../main/engine/hash-helpers.ts'

const MiB = 1024 * 1024
const PIECE = 256 * 1024

function layout (paths: string[]): HashFile[] {
  let offset = 0
  return paths.map((path) => {
    const length = readFileSync(path).length
    const f = { path, offset, length }
    offset += length
    return f
  })
}

/** Thread ids of a process's worker threads (Node names them WorkerThread), sorted. */
function workerThreads (pid: number = process.pid): number[] {
  const out: number[] = []
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try { if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === 'WorkerThread') out.push(Number(tid)) } catch { /* ended meanwhile */ }
  }
  return out.sort((a, b) => a - b)
}

function reference (files: HashFile[], pieceLength: number): Buffer {
  const all = Buffer.concat(files.map((f) => readFileSync(f.path)))
  const out: Buffer[] = []
  for (let at = 0; at < all.length; at += pieceLength) out.push(createHash('sha1').update(all.subarray(at, at + pieceLength)).digest())
  return Buffer.concat(out)
}

test('hashPieces over files that pieces straddle equals SHA-1 of each piece, twice, with progress to the end', async () => {
  const d = tempDir()
  try {
    // Odd sizes so pieces cross file ends; 25 MiB so workers hash several 8 MiB batches.
    const files = layout([
      randomFile(join(d.path, 'a.bin'), 5 * MiB + 1),
      randomFile(join(d.path, 'b.bin'), 9 * MiB + 123),
      randomFile(join(d.path, 'c.bin'), 7),
      randomFile(join(d.path, 'd.bin'), 11 * MiB)
    ])
    const total = files.reduce((s, f) => s + f.length, 0)
    const want = reference(files, PIECE)
    for (const round of ['first', 'second']) {
      const seen: number[] = []
      const got = await hashPieces(files, PIECE, (p) => { assert.equal(p.totalBytes, total); seen.push(p.hashedBytes) })
      assert.ok(Buffer.from(got).equals(want), `${round}: digests differ from SHA-1 of each piece`)
      assert.equal(seen.at(-1), total, `${round}: progress ends at the total`)
      assert.deepEqual(seen, [...seen].sort((x, y) => x - y), `${round}: progress only grows`)
    }
  } finally { d.cleanup() }
})

test('with the calling thread helping (shoal create): the same digests, some pieces hashed on the calling thread, one per turn of its event loop', async (t) => {
  if (availableParallelism() < 2) return t.skip('one core: no worker to help')
  const d = tempDir()
  try {
    const files = layout([randomFile(join(d.path, 'a.bin'), 13 * MiB + 5), randomFile(join(d.path, 'b.bin'), 12 * MiB)])
    let turns = 0
    let spinning = true
    const spin = (): void => { turns++; if (spinning) setImmediate(spin) }
    setImmediate(spin)
    // Progress as [bytes, event-loop turns so far]: a worker reports a whole batch (8 MiB) at once,
    // the calling thread each piece it hashed.
    const seen: Array<[number, number]> = [[0, 0]]
    const got = await hashPieces(files, PIECE, (p) => seen.push([p.hashedBytes, turns]), { callingThreadHelps: true })
    spinning = false
    assert.ok(Buffer.from(got).equals(reference(files, PIECE)), 'digests differ from SHA-1 of each piece')
    const steps = seen.slice(1).map(([v, turn], i) => ({ bytes: v - seen[i]![0], turn }))
    const onCaller = steps.filter((s) => s.bytes === PIECE)
    assert.ok(onCaller.length >= 2, `under two pieces hashed on the calling thread (steps: ${steps.map((s) => s.bytes).join(', ')})`)
    assert.ok(onCaller.length < steps.length, 'the worker hashed nothing')
    const sameTurn = onCaller.filter((s, i) => i > 0 && s.turn === onCaller[i - 1]!.turn).length
    assert.equal(sameTurn, 0, `${sameTurn} of ${onCaller.length} pieces on the calling thread followed the previous one without a turn of the event loop`)
  } finally { d.cleanup() }
})

test('verifyPieces returns exactly the chosen pieces that match: wrong hashes and a missing file fail, the rest pass', async () => {
  const d = tempDir()
  try {
    const files = layout([randomFile(join(d.path, 'a.bin'), 12 * MiB + 5), randomFile(join(d.path, 'b.bin'), 8 * MiB)])
    const hashes = reference(files, PIECE)
    const count = hashes.length / 20
    const wrong = [3, 40]
    for (const i of wrong) hashes[i * 20] = hashes[i * 20]! ^ 0xff
    // every other piece, plus the two with wrong hashes: non-contiguous runs
    const chosen = [...new Set([...Array.from({ length: count }, (_, i) => i).filter((i) => i % 2 === 0), ...wrong])]
    const good = await verifyPieces(files, PIECE, hashes, chosen)
    assert.deepEqual(good, chosen.filter((i) => !wrong.includes(i)).sort((x, y) => x - y))

    // b.bin gone: its pieces (and the one shared with a.bin) cannot match; a.bin's own still do.
    const gone = files.map((f, k) => (k === 1 ? { ...f, path: join(d.path, 'missing.bin') } : f))
    const firstOfB = Math.floor(files[1]!.offset / PIECE)
    const stillGood = await verifyPieces(gone, PIECE, reference(files, PIECE), Array.from({ length: count }, (_, i) => i))
    assert.deepEqual(stillGood, Array.from({ length: firstOfB }, (_, i) => i))
  } finally { d.cleanup() }
})

test('shoal create on a file big enough for worker threads writes the right pieces and exits as soon as it is done', async () => {
  const d = tempDir()
  try {
    const files = layout([randomFile(join(d.path, 'big.bin'), 12 * MiB + 77)])
    const out = join(d.path, 'big.torrent')
    // A worker left running would keep the CLI from exiting: it would time out here.
    const r = await runCliToEnd(['create', files[0]!.path, '-o', out, '--piece-length', String(PIECE)], 10000)
    assert.equal(r.code, 0, r.stderr)
    const t = bencode.decode(readFileSync(out)) as { info: { pieces: Uint8Array } }
    assert.ok(Buffer.from(t.info.pieces).equals(reference(files, PIECE)))
  } finally { d.cleanup() }
})

test('a pool keeps its started workers between jobs (same threads hash the next job), ends the rest, and closes', async () => {
  const d = tempDir()
  const keep = Math.min(2, hashThreads())
  const pool = new HashPool(keep)
  try {
    const files = layout([randomFile(join(d.path, 'a.bin'), 20 * MiB + 3)])
    const want = reference(files, PIECE)
    assert.deepEqual(workerThreads(), [], 'no worker threads before the pool starts')
    pool.warm()
    const kept = await waitFor('the kept workers', () => { const w = workerThreads(); return w.length === keep ? w : null })
    for (const round of ['first', 'second']) {
      assert.ok(Buffer.from(await hashPieces(files, PIECE, undefined, { pool })).equals(want), `${round} job: digests differ`)
      assert.deepEqual(await verifyPieces(files, PIECE, want, [0, 1, 79]), [0, 1, 79], `${round} verify`)
      // Any worker started beyond the kept ones (more cores than kept) ends with its job.
      const after = await waitFor('the job\'s extra workers to end', () => { const w = workerThreads(); return w.length === keep ? w : null })
      assert.deepEqual(after, kept, `${round} job: the kept workers were replaced`)
    }
    // Without a pool, a job's workers end with it.
    pool.close()
    await waitFor('the pool\'s workers to end', () => workerThreads().length === 0 || null)
    assert.ok(Buffer.from(await hashPieces(files, PIECE)).equals(want))
    await waitFor('the job\'s workers to end', () => workerThreads().length === 0 || null)
  } finally { pool.close(); d.cleanup() }
})

/** Runs an ES module in a new Node process (this one's loader hooks and heap out of the way). */
function runModule (dir: string, source: string, args: string[] = []): ReturnType<typeof spawnSync> & { stdout: string; stderr: string } {
  const path = join(dir, `script-${Math.random().toString(36).slice(2)}.mjs`)
  writeFileSync(path, source)
  return spawnSync(process.execPath, [...args, path], { encoding: 'utf8', timeout: 30000 }) as ReturnType<typeof spawnSync> & { stdout: string; stderr: string }
}
const HELPERS = JSON.stringify(join(import.meta.dirname, '../../main/engine/hash-helpers.ts'))
const HASHER = JSON.stringify(join(import.meta.dirname, '../../main/engine/piece-hasher.ts'))

test('a kept worker gives its read buffer back once idle (16 MiB pieces)', async () => {
  const d = tempDir()
  try {
    const big = 16 * MiB
    const files = layout([randomFile(join(d.path, 'a.bin'), 4 * big)])
    // In its own process, so nothing but the workers' read buffers moves its anonymous memory; the
    // main heap is collected before each reading (the buffers live in the workers, out of its reach).
    const r = runModule(d.path, `
      import { readFileSync } from 'node:fs'
      import { HashPool } from ${HELPERS}
      import { hashPieces } from ${HASHER}
      const anon = () => { globalThis.gc(); return Number(/RssAnon:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024 }
      const pool = new HashPool(2)
      const digests = await hashPieces(${JSON.stringify(files)}, ${big}, undefined, { pool })
      const busy = anon()
      await new Promise((r) => setTimeout(r, 3000))
      console.log(JSON.stringify({ busy, idle: anon(), digests: Buffer.from(digests).toString('hex') }))
      pool.close()`, ['--expose-gc'])
    assert.equal(r.status, 0, r.stderr)
    const out = JSON.parse(r.stdout) as { busy: number; idle: number; digests: string }
    assert.equal(out.digests, reference(files, big).toString('hex'))
    const workers = Math.min(2, hashThreads())
    // Each worker that hashed held one 16 MiB piece buffer.
    assert.ok(out.busy - out.idle >= workers * 16 - 4, `idle for 3 s, anonymous memory went ${out.busy.toFixed(1)} -> ${out.idle.toFixed(1)} MiB`)
  } finally { d.cleanup() }
})

test('a kept worker that hashed tiny pieces (1 KiB, from Node\'s shared buffer pool) still hashes right after its idle release', async () => {
  const d = tempDir()
  const pool = new HashPool(1)
  try {
    const tiny = 1024
    const files = layout([randomFile(join(d.path, 'a.bin'), 6 * MiB + 5)])
    const want = reference(files, tiny)
    assert.ok(Buffer.from(await hashPieces(files, tiny, undefined, { pool })).equals(want), 'first job')
    await new Promise((r) => setTimeout(r, 2600))
    assert.ok(Buffer.from(await hashPieces(files, tiny, undefined, { pool })).equals(want), 'after the idle release')
    assert.deepEqual(await verifyPieces(files, tiny, want, [0, 7, 6144], undefined, { pool }), [0, 7, 6144], 'verifying after it')
  } finally { pool.close(); d.cleanup() }
})

test('a process with a kept pool waits for its job, then exits by itself: idle workers, used or not, do not hold it open', async () => {
  const d = tempDir()
  try {
    // 6 MiB: one batch, so one of the two kept workers never gets a job.
    const files = layout([randomFile(join(d.path, 'a.bin'), 6 * MiB)])
    const r = runModule(d.path, `
      import { HashPool } from ${HELPERS}
      import { hashPieces } from ${HASHER}
      const pool = new HashPool(2)
      pool.warm()
      // Nothing but the job's workers keeps this process alive until the digests arrive.
      const got = await hashPieces(${JSON.stringify(files)}, ${PIECE}, undefined, { pool })
      console.log(Buffer.from(got).toString('hex'))`)
    assert.equal(r.signal, null, 'the process did not exit by itself (killed at the timeout)')
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout.trim(), reference(files, PIECE).toString('hex'))
  } finally { d.cleanup() }
})

test('shoal serve keeps its hash workers between shares, which hash right; shoal seed has none once it has hashed', async () => {
  const d = tempDir()
  const served = await startServe(join(d.path, 'serve'))
  try {
    const pid = served.child.pid!
    const keep = Math.min(2, hashThreads())
    const kept = await waitFor('serve\'s kept workers', () => { const w = workerThreads(pid); return w.length === keep ? w : null })
    const api = await WsApi.open(served)
    try {
      for (const name of ['a.bin', 'b.bin']) {
        const path = randomFile(join(d.path, name), 12 * MiB + 9)
        const r = await api.call('torrent.share', { paths: [path], options: { pieceLength: PIECE } }) as { infoHash: string }
        const info = { length: readFileSync(path).length, name: Buffer.from(name), 'piece length': PIECE, pieces: reference(layout([path]), PIECE) }
        assert.equal(r.infoHash, createHash('sha1').update(bencode.encode(info)).digest('hex'), `${name}: the info hash of its SHA-1 pieces`)
        assert.deepEqual(await waitFor('the kept workers alone', () => { const w = workerThreads(pid); return w.length === keep ? w : null }), kept,
          `${name}: the kept workers were replaced`)
      }
    } finally { api.close() }
  } finally { await served.stop() }

  const seed = runCli(['seed', randomFile(join(d.path, 'c.bin'), 12 * MiB), '--no-dht', '--no-lsd', '--port', '0', '--data', join(d.path, 'seed-data')])
  try {
    await waitFor('shoal seed to seed', () => /seeding .* on port \d+/.test(seed.stderr()) || null)
    await waitFor('shoal seed\'s hash workers to end', () => workerThreads(seed.child.pid!).length === 0 || null)
  } finally {
    seed.kill('SIGTERM')
    await seed.exited
    d.cleanup()
  }
})
