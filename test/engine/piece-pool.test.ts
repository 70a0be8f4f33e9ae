// Piece buffers are reused once their disk write is done (patched torrent-piece): a download makes
// no piece-sized garbage per piece, the reused buffer holds only the new piece's bytes, and the
// pool keeps at most 8 MiB.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import Piece from 'torrent-piece'

const BLOCK = Piece.BLOCK_LENGTH

/** A complete piece of `length` random bytes, filled block by block like a download does. */
function filled (length: number): { buf: Uint8Array; data: Buffer } {
  const data = randomBytes(length)
  const p = new Piece(length)
  for (let i = p.reserve(); i !== -1; i = p.reserve()) p.set(i, data.subarray(i * BLOCK, i * BLOCK + BLOCK), 'peer')
  const buf = p.flush()
  assert.ok(buf)
  return { buf, data }
}

test('a recycled piece buffer is reused by the next piece of that length and holds exactly its bytes', () => {
  const length = 4 * BLOCK + 100
  const first = filled(length)
  assert.ok(Buffer.from(first.buf).equals(first.data))
  Piece.recycle(first.buf)
  const second = filled(length)
  // identity, with ok(): on failure equal() would render a diff of two 64 KiB arrays, which takes minutes
  assert.ok(second.buf === first.buf, 'the same buffer, not a new one')
  assert.ok(Buffer.from(second.buf).equals(second.data), 'only the new piece\'s bytes')
  const other = filled(length - 1)
  assert.ok(other.buf !== first.buf, 'a piece of another length gets its own')
})

test('the pool keeps at most 8 MiB of buffers', () => {
  const length = 256 * 1024
  const made = Array.from({ length: 40 }, () => filled(length).buf)
  for (const b of made) Piece.recycle(b)
  const again = Array.from({ length: 40 }, () => filled(length).buf)
  const reused = again.filter((b) => made.includes(b)).length
  assert.equal(reused, (8 * 1024 * 1024) / length)
})

test('a buffer the full pool does not take is freed at once, not left for a full collection', () => {
  const length = 256 * 1024
  const made = Array.from({ length: 33 }, () => filled(length).buf)
  for (const b of made) Piece.recycle(b)
  const kept = made.slice(0, 32)
  const dropped = made[32]!
  assert.equal(dropped.buffer.byteLength, 0, 'its memory is handed back (the buffer is detached)')
  assert.ok(kept.every((b) => b.buffer.byteLength === length), 'the pooled ones are untouched')
  // the pooled ones are reused, so no later piece sees a detached buffer
  const again = Array.from({ length: 33 }, () => filled(length))
  assert.ok(again.every(({ buf, data }) => Buffer.from(buf).equals(data)))
})

test('a received block can be read back from its piece before the piece is done', () => {
  const data = randomBytes(3 * BLOCK + 7)
  const p = new Piece(data.length)
  const last = 3
  assert.equal(p.get(last), undefined, 'nothing before it arrives')
  p.set(last, data.subarray(last * BLOCK), 'peer')
  assert.ok(Buffer.from(p.get(last)!).equals(data.subarray(last * BLOCK)))
  assert.equal(p.missing, data.length - 7)
})
