// Piece hashing on the worker pool: the same digests as a plain SHA-1 over the concatenated files,
// however the work is split, run twice, and verification of chosen pieces.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { createHash } from 'node:crypto'
import bencode from 'bencode'
import { tempDir, randomFile } from '../helpers/fixtures.ts'
import { runCliToEnd } from '../helpers/cli.ts'
import { hashPieces, verifyPieces, type HashFile } from '../../main/engine/piece-hasher.ts'

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
