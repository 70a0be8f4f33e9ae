// A downloading wire fed the way webtorrent's direct reads feed it (patched bittorrent-protocol):
// every socket read is a view into one buffer that is overwritten as soon as the wire returns. The
// wire keeps a message split between reads in buffers of its own; nothing it hands on, and nothing
// it keeps, may still point into the read buffer. Reads here end at every kind of boundary: inside a
// length prefix, inside a block, inside a message larger than the wire's own carry buffers (32 KiB).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes, createHash } from 'node:crypto'
import { setImmediate as turn } from 'node:timers/promises'
import bencode from 'bencode'
import Wire from 'bittorrent-protocol'
import { handshake, message, extended } from '../helpers/raw-peer.ts'

const INFO_HASH = randomBytes(20).toString('hex')
const BLOCK = 16384
const READ_BUFFER = 64 * 1024

/** Deterministic chunk sizes, so a failing seed can be replayed. */
function sizes (seed: number): () => number {
  let x = seed >>> 0 || 1
  const next = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x }
  return () => {
    const r = next() % 10
    // Mostly whole reads, some tiny ones (a length prefix split 1 + 3), some in between.
    if (r < 4) return READ_BUFFER
    if (r < 6) return 1 + (next() % 7)
    return 1 + (next() % READ_BUFFER)
  }
}

function piece (index: number, offset: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(index, 0)
  head.writeUInt32BE(offset, 4)
  return message(7, Buffer.concat([head, data]))
}

for (const seed of [1, 7, 42, 1234, 99991]) {
  test(`blocks, a 16 KiB bitfield and a 100 KiB extension message survive a reused read buffer (seed ${seed})`, async () => {
    const wire = new Wire('tcpOutgoing')
    try {
      const extensionHandshakes: Array<Record<string, unknown>> = []
      wire.on('extended', (ext: string | number, dict: Record<string, unknown>) => { if (ext === 'handshake') extensionHandshakes.push(dict) })
      wire.handshake(INFO_HASH, randomBytes(20).toString('hex'), { dht: false })
      wire.write(Buffer.concat([handshake(INFO_HASH), message(1)])) // settled and unchoked; from here on, reads are volatile views
      await turn()

      const pieces = 131_072 // a 16 KiB bitfield: within the wire's 32 KiB carry buffers, kept with blocks around it
      const bits = randomBytes(pieces / 8)
      const padding = randomBytes(100 * 1024).toString('base64') // larger than the carry buffers
      const blocks = Array.from({ length: 48 }, () => randomBytes(BLOCK))
      const got: Array<Buffer | null> = blocks.map(() => null)
      const stream = Buffer.concat([
        message(5, bits),
        ...blocks.slice(0, 16).map((b, i) => piece(i, 0, b)),
        extended(0, bencode.encode({ m: { ut_metadata: 3 }, v: 'test', pad: padding })),
        ...blocks.slice(16).map((b, i) => piece(16 + i, 0, b))
      ])
      for (let i = 0; i < blocks.length; i++) {
        wire.request(i, 0, BLOCK, (err, block) => {
          assert.equal(err, null)
          got[i] = Buffer.from(block!) // a block callback copies before it returns, as webtorrent does
        })
      }
      await turn()
      assert.ok(got.every((b) => b === null))

      const read = Buffer.alloc(READ_BUFFER)
      const next = sizes(seed)
      for (let at = 0; at < stream.length;) {
        const n = Math.min(next(), stream.length - at)
        stream.copy(read, 0, at, at + n)
        wire._shoalVolatile = true
        wire._write(read.subarray(0, n), () => {})
        wire._shoalVolatile = false
        read.fill(0xee) // the socket's next read lands here
        at += n
      }

      const digest = (b: Buffer | null) => b ? createHash('sha1').update(b).digest('hex') : 'missing'
      assert.deepEqual(got.map(digest), blocks.map(digest), 'every block arrives byte-exact')
      for (let i = 0; i < pieces; i += 997) assert.equal(wire.peerPieces.get(i), ((bits[i >> 3]! >> (7 - (i & 7))) & 1) === 1, `bitfield bit ${i}`)
      assert.equal(extensionHandshakes.length, 1)
      assert.equal(Buffer.from(extensionHandshakes[0]!.pad as Uint8Array).toString(), padding, 'the large message is intact')
      // Kept after the reads: the bitfield must not have been a view into the read buffer.
      read.fill(0x11)
      for (let i = 0; i < pieces; i += 997) assert.equal(wire.peerPieces.get(i), ((bits[i >> 3]! >> (7 - (i & 7))) & 1) === 1, `bitfield bit ${i} after reuse`)
    } finally {
      wire.destroy()
    }
  })
}

test('a large message in small reads is copied about once, not once per read', async () => {
  const wire = new Wire('tcpOutgoing')
  const from = Buffer.from
  try {
    const got: string[] = []
    wire.on('extended', (ext: string | number, dict: Record<string, unknown>) => { if (ext === 'handshake') got.push(new TextDecoder().decode(dict.pad as Uint8Array)) })
    wire.handshake(INFO_HASH, randomBytes(20).toString('hex'), { dht: false })
    wire.write(handshake(INFO_HASH))
    await turn()
    const padding = randomBytes(192 * 1024).toString('base64') // 256 KiB: larger than the carry buffers
    const stream = extended(0, bencode.encode({ m: {}, pad: padding }))
    let copied = 0
    // Counts what the wire copies out of the read buffer (it copies with Buffer.from).
    Buffer.from = ((value: unknown, ...rest: unknown[]) => {
      if (value instanceof Uint8Array) copied += value.length
      return (from as (...a: unknown[]) => Buffer)(value, ...rest)
    }) as typeof Buffer.from
    const read = Buffer.alloc(READ_BUFFER)
    for (let at = 0; at < stream.length; at += 256) {
      const n = Math.min(256, stream.length - at)
      stream.copy(read, 0, at, at + n)
      wire._shoalVolatile = true
      wire._write(read.subarray(0, n), () => {})
      wire._shoalVolatile = false
      read.fill(0xee)
    }
    Buffer.from = from
    assert.deepEqual(got, [padding], 'the message is intact')
    // Each read's bytes once, and the whole message once more when it is handed on.
    assert.ok(copied <= 2.1 * stream.length, `${copied} bytes copied for a ${stream.length}-byte message`)
  } finally {
    Buffer.from = from
    wire.destroy()
  }
})

// Over RC4 the wire parses a new buffer per read (the cipher's output) and, once the handshake is
// in, frees it as soon as it has parsed it: what it keeps or hands on must be copies there too.
// The stand-in cipher (XOR) makes a new buffer per call, as Node's RC4 does.
test('decrypted reads are freed once parsed, and blocks, bitfield and a large message survive it', async () => {
  const wire = new Wire('tcpOutgoing')
  try {
    const extensionHandshakes: Array<Record<string, unknown>> = []
    wire.on('extended', (ext: string | number, dict: Record<string, unknown>) => { if (ext === 'handshake') extensionHandshakes.push(dict) })
    wire.handshake(INFO_HASH, randomBytes(20).toString('hex'), { dht: false })
    const outputs: Uint8Array[] = []
    const xor = (d: Uint8Array): Uint8Array => { const o = Buffer.allocUnsafeSlow(d.length); for (let i = 0; i < d.length; i++) o[i] = d[i]! ^ 0x5a; outputs.push(o); return o }
    wire._encryptor = { decrypt: xor, encrypt: (d) => d }
    wire.write(xor(Buffer.concat([handshake(INFO_HASH), message(1)])))
    await turn()
    outputs.length = 0

    const pieces = 131_072
    const bits = randomBytes(pieces / 8)
    const padding = randomBytes(100 * 1024).toString('base64')
    const blocks = Array.from({ length: 32 }, () => randomBytes(BLOCK))
    const got: Array<Buffer | null> = blocks.map(() => null)
    const stream = Buffer.concat([
      message(5, bits),
      ...blocks.slice(0, 16).map((b, i) => piece(i, 0, b)),
      extended(0, bencode.encode({ m: { ut_metadata: 3 }, pad: padding })),
      ...blocks.slice(16).map((b, i) => piece(16 + i, 0, b))
    ])
    for (let i = 0; i < blocks.length; i++) wire.request(i, 0, BLOCK, (err, block) => { assert.equal(err, null); got[i] = Buffer.from(block!) })
    await turn()

    const next = sizes(3)
    for (let at = 0; at < stream.length;) {
      const n = Math.min(next(), stream.length - at)
      wire._shoalVolatile = true
      wire._write(xor(stream.subarray(at, at + n)), () => {})
      wire._shoalVolatile = false
      at += n
    }
    const decrypted = outputs.filter((_, i) => i % 2 === 1) // each read: the test's encryption, then the wire's decryption
    assert.ok(decrypted.length > 10)
    assert.ok(decrypted.every((b) => b.buffer.byteLength === 0), 'every decrypted read is freed once parsed')
    const digest = (b: Buffer | null) => b ? createHash('sha1').update(b).digest('hex') : 'missing'
    assert.deepEqual(got.map(digest), blocks.map(digest), 'every block arrives byte-exact')
    for (let i = 0; i < pieces; i += 997) assert.equal(wire.peerPieces.get(i), ((bits[i >> 3]! >> (7 - (i & 7))) & 1) === 1, `bitfield bit ${i}`)
    assert.equal(extensionHandshakes.length, 1)
    assert.equal(Buffer.from(extensionHandshakes[0]!.pad as Uint8Array).toString(), padding, 'the large message is intact')
  } finally {
    wire.destroy()
  }
})
