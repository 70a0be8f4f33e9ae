// One UDP socket that runs STUN Binding transactions (RFC 5389 with the RFC 5780 attributes).
// The `stun` package encodes and decodes; its own request() hides the reply's source address and
// closes shared sockets, and RFC 5780 needs both the source (to check a CHANGE-REQUEST was obeyed)
// and one socket for several servers, so the transaction loop (send, retransmit, match) is ours.
import { createSocket, type Socket, type RemoteInfo } from 'node:dgram'
import { createRequire } from 'node:module'
import type { Endpoint } from './addresses.ts'

interface StunAttribute { type: number; value: unknown }
interface StunMessage {
  transactionId: Buffer
  toBuffer (): Buffer
  addAttribute (type: number, value: number): void
  getAttribute (type: number): StunAttribute | undefined
  getXorAddress (): { address: string; port: number } | undefined
  getAddress (): { address: string; port: number } | undefined
}
interface StunServerHandle {
  send (message: StunMessage, port: number, address: string): boolean
  on (event: 'bindingResponse', listener: (message: StunMessage, rinfo: RemoteInfo) => void): void
  on (event: 'error', listener: (err: Error) => void): void
  close (): void
}
interface StunPackage {
  createMessage (type: number): StunMessage
  createServer (options: { type: 'udp4'; socket: Socket }): StunServerHandle
  constants: Record<string, number>
}
const stun = createRequire(import.meta.url)('stun') as StunPackage
const C = stun.constants
const ATTR_CHANGE_REQUEST = C.STUN_ATTR_CHANGE_REQUEST ?? 0x0003
const ATTR_OTHER_ADDRESS = C.STUN_ATTR_OTHER_ADDRESS ?? 0x802c
/** RFC 3489's CHANGED-ADDRESS: classic servers name their alternate address with it; `stun` leaves it raw. */
const ATTR_CHANGED_ADDRESS = 0x0005
const BINDING_REQUEST = C.STUN_BINDING_REQUEST ?? 0x0001

export interface BindingReply {
  /** Our address as the server saw it (XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS). */
  mapped: Endpoint | null
  /** The server's alternate address (OTHER-ADDRESS, or RFC 3489 CHANGED-ADDRESS); null without RFC 5780. */
  other: Endpoint | null
  /** Where the reply actually came from. */
  source: Endpoint
}

export interface TransactionTiming {
  /** First retransmission timeout; doubles after each send (RFC 5389 7.2.1). */
  rtoMs: number
  /** Give up after this long without a reply. */
  deadlineMs: number
}
export const DEFAULT_TIMING: TransactionTiming = { rtoMs: 250, deadlineMs: 2000 }

export interface Change { ip?: boolean; port?: boolean }

export class StunSocket {
  private readonly socket: Socket
  private readonly server: StunServerHandle
  private readonly waiting = new Map<string, (reply: BindingReply | null) => void>()
  /** Set when the kernel reports ICMP port unreachable (only on a connected socket). */
  refused = false

  private constructor (socket: Socket) {
    this.socket = socket
    this.server = stun.createServer({ type: 'udp4', socket })
    this.server.on('bindingResponse', (message, rinfo) => {
      const resolve = this.waiting.get(message.transactionId.toString('hex'))
      if (resolve) resolve(toReply(message, rinfo))
    })
    // Undecodable packets and STUN error responses: ignore them and let the deadline answer.
    this.server.on('error', () => {})
    socket.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'ECONNREFUSED') this.refused = true })
  }

  static async open (connectTo?: Endpoint): Promise<StunSocket> {
    const socket = createSocket('udp4')
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(0, () => { socket.off('error', reject); resolve() })
    })
    if (connectTo) await new Promise<void>((resolve) => socket.connect(connectTo.port, connectTo.address, resolve))
    return new StunSocket(socket)
  }

  get localPort (): number {
    return this.socket.address().port
  }

  /** One Binding transaction; null when no reply came before the deadline. */
  binding (to: Endpoint, change: Change = {}, timing: TransactionTiming = DEFAULT_TIMING): Promise<BindingReply | null> {
    const message = stun.createMessage(BINDING_REQUEST)
    const flags = (change.ip ? 0x4 : 0) | (change.port ? 0x2 : 0)
    if (flags) message.addAttribute(ATTR_CHANGE_REQUEST, flags)
    const key = message.transactionId.toString('hex')
    const connected = this.isConnected()
    return new Promise((resolve) => {
      let rto = timing.rtoMs
      let resend: NodeJS.Timeout | undefined
      const finish = (reply: BindingReply | null): void => {
        clearTimeout(resend)
        clearTimeout(deadline)
        this.waiting.delete(key)
        resolve(reply)
      }
      const send = (): void => {
        try {
          if (connected) this.socket.send(message.toBuffer(), () => {})
          else this.server.send(message, to.port, to.address)
        } catch { /* socket closed under us: the deadline answers */ }
        resend = setTimeout(send, rto)
        rto *= 2
      }
      const deadline = setTimeout(() => finish(null), timing.deadlineMs)
      this.waiting.set(key, finish)
      send()
    })
  }

  close (): void {
    this.server.close()
    try { this.socket.close() } catch { /* already closed */ }
  }

  private isConnected (): boolean {
    try { this.socket.remoteAddress(); return true } catch { return false }
  }
}

function toReply (message: StunMessage, rinfo: RemoteInfo): BindingReply {
  const mapped = message.getXorAddress() ?? message.getAddress() ?? null
  return {
    mapped: mapped ? { address: mapped.address, port: mapped.port } : null,
    other: addressAttribute(message.getAttribute(ATTR_OTHER_ADDRESS)) ?? rawAddress(message.getAttribute(ATTR_CHANGED_ADDRESS)),
    source: { address: rinfo.address, port: rinfo.port }
  }
}

function addressAttribute (attr: StunAttribute | undefined): Endpoint | null {
  const v = attr?.value as { address?: unknown; port?: unknown } | undefined
  return typeof v?.address === 'string' && typeof v.port === 'number' ? { address: v.address, port: v.port } : null
}

/** MAPPED-ADDRESS layout (RFC 5389 15.1), IPv4 only. */
function rawAddress (attr: StunAttribute | undefined): Endpoint | null {
  const b = attr?.value
  if (!Buffer.isBuffer(b) || b.length < 8 || b[1] !== 0x01) return null
  return { address: [...b.subarray(4, 8)].join('.'), port: b.readUInt16BE(2) }
}
