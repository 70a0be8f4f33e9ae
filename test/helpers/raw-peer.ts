// Raw BitTorrent peers for tests: a plain TCP socket, optionally from a chosen loopback address
// (127.0.0.x all work on Linux), speaking as much of the protocol as a test needs.
import { connect, type Socket } from 'node:net'
import { randomBytes } from 'node:crypto'

/** The 68-byte plaintext handshake (BEP 3) with the extension-protocol bit (BEP 10) set. */
export function handshake (infoHash: string, peerId: Buffer = Buffer.concat([Buffer.from('-XX0001-'), randomBytes(12)])): Buffer {
  const reserved = Buffer.alloc(8)
  reserved[5] = 0x10
  return Buffer.concat([Buffer.from([19]), Buffer.from('BitTorrent protocol'), reserved, Buffer.from(infoHash, 'hex'), peerId])
}

/** One length-prefixed message. */
export function message (id: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5)
  head.writeUInt32BE(payload.length + 1, 0)
  head[4] = id
  return Buffer.concat([head, payload])
}

export function openSocket (port: number, localAddress = '127.0.0.1', host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host, localAddress })
    s.once('connect', () => { s.off('error', reject); resolve(s) })
    s.once('error', reject)
  })
}

/**
 * Dials `port` from `localAddress`, sends a plaintext handshake for `infoHash`, and reports what came
 * back: the bytes the other side sent before it closed, or once it sent at least `enough` bytes.
 */
export async function probeHandshake (port: number, infoHash: string, localAddress: string, enough = 68, timeoutMs = 30000): Promise<{ received: number; closedByPeer: boolean }> {
  const s = await openSocket(port, localAddress)
  return new Promise((resolve, reject) => {
    let received = 0
    const done = (closedByPeer: boolean) => { clearTimeout(timer); s.destroy(); resolve({ received, closedByPeer }) }
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`no answer and no close from port ${port} in ${timeoutMs} ms`)) }, timeoutMs)
    s.on('data', (d: Buffer) => { received += d.length; if (received >= enough) done(false) })
    s.on('error', () => {})
    s.on('close', () => done(true))
    s.write(handshake(infoHash))
  })
}
