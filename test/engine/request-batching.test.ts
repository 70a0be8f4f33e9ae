// The requests a downloader makes in one go leave the wire as one buffer (patched
// bittorrent-protocol): one encryption call and one socket write for a refill of hundreds, not one
// each, and no message overtakes them or is overtaken (a message in between sends them first).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { setImmediate as turn } from 'node:timers/promises'
import Wire from 'bittorrent-protocol'
import { handshake, message } from '../helpers/raw-peer.ts'

const INFO_HASH = randomBytes(20).toString('hex')
const BLOCK = 16384

/** The BitTorrent messages in `chunk`, as [id, first number of the payload]. */
function messages (chunk: Buffer): Array<[number, number]> {
  const out: Array<[number, number]> = []
  for (let at = 0; at < chunk.length;) {
    const len = chunk.readUInt32BE(at)
    out.push([chunk[at + 4]!, chunk.readUInt32BE(at + 5)])
    at += 4 + len
  }
  return out
}

test('requests made together leave as one chunk, in order with the messages around them', async () => {
  const wire = new Wire('tcpOutgoing')
  const chunks: Buffer[] = []
  wire.on('data', (c: Uint8Array) => { chunks.push(Buffer.from(c)) })
  try {
    wire.handshake(INFO_HASH, randomBytes(20).toString('hex'), { dht: false })
    wire.write(Buffer.concat([handshake(INFO_HASH), message(1)])) // the peer's handshake, then unchoke
    await turn()
    chunks.length = 0

    for (let i = 0; i < 100; i++) wire.request(i, BLOCK, BLOCK, () => {})
    wire.have(7)
    for (let i = 200; i < 203; i++) wire.request(i, 0, BLOCK, () => {})
    await turn()

    const request = (i: number): [number, number] => [6, i]
    assert.deepEqual(chunks.map((c) => c.length), [100 * 17, 9, 3 * 17], 'one chunk per run of requests, the have on its own')
    assert.deepEqual(chunks.flatMap(messages), [
      ...Array.from({ length: 100 }, (_, i) => request(i)),
      [4, 7],
      request(200), request(201), request(202)
    ])
    // Each request carries its own offset and length.
    const first = chunks[0]!
    assert.deepEqual([first.readUInt32BE(9), first.readUInt32BE(13), first.readUInt32BE(17 * 99 + 13)], [BLOCK, BLOCK, BLOCK])
  } finally {
    wire.destroy()
  }
})
