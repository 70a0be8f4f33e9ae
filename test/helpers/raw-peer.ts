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

/** BEP 10 extended message: id 20, then the extension's id and its payload. */
export function extended (extId: number, payload: Uint8Array): Buffer {
  return message(20, Buffer.concat([Buffer.from([extId]), Buffer.from(payload)]))
}

/** A piece message's block (BEP 3 message 7); `data` is a view, valid only during the call. */
export type PieceHandler = (index: number, offset: number, data: Buffer) => void

export interface SeenMessage { id: number; extId: number | null; length: number }

/**
 * A raw peer: TCP socket, plaintext handshake sent at once, and a parser for what comes back
 * (the handshake, then length-prefixed messages; only ids and sizes are kept, at most `keep`).
 */
export class RawPeer {
  readonly socket: Socket
  readonly seen: SeenMessage[] = []
  received = 0
  handshakeReceived = false
  closed = false
  private buf: Buffer = Buffer.alloc(0)
  private readonly keep: number
  private readonly onPiece: PieceHandler | undefined
  private constructor (socket: Socket, keep: number, onPiece?: PieceHandler) {
    this.socket = socket
    this.keep = keep
    this.onPiece = onPiece
    socket.on('error', () => {})
    socket.on('close', () => { this.closed = true })
    socket.on('data', (d: Buffer) => this.onData(d))
  }

  static async open (port: number, infoHash: string | null, o: { localAddress?: string; keep?: number; onPiece?: PieceHandler } = {}): Promise<RawPeer> {
    const p = new RawPeer(await openSocket(port, o.localAddress ?? '127.0.0.1'), o.keep ?? 10000, o.onPiece)
    if (infoHash) p.socket.write(handshake(infoHash))
    return p
  }

  private onData (d: Buffer): void {
    this.received += d.length
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d
    if (!this.handshakeReceived) {
      if (this.buf.length < 68) return
      this.handshakeReceived = true
      this.buf = this.buf.subarray(68)
    }
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0)
      if (this.buf.length < 4 + len) return
      if (len > 0 && this.seen.length < this.keep) {
        const id = this.buf[4]!
        this.seen.push({ id, extId: id === 20 && len > 1 ? this.buf[5]! : null, length: len })
      }
      if (len > 9 && this.buf[4] === 7 && this.onPiece) {
        this.onPiece(this.buf.readUInt32BE(5), this.buf.readUInt32BE(9), this.buf.subarray(13, 4 + len))
      }
      this.buf = this.buf.subarray(4 + len)
    }
  }

  /** Writes, resolving when the socket has taken it: true, or false if the connection is gone. */
  write (data: Uint8Array): Promise<boolean> {
    if (this.gone) return Promise.resolve(false)
    return new Promise((resolve) => { this.socket.write(data, (err) => resolve(!err)) })
  }

  /** Closed, or closing: nothing more can be written. */
  get gone (): boolean { return this.closed || this.socket.destroyed || !this.socket.writable }

  close (): void { this.socket.destroy() }
}
