// A loopback UDP relay in front of a uTP listener that can drop chosen uTP data packets, delay
// datagrams, and records when each one arrived (so a test can see how a sender recovered).
import { createSocket, type Socket, type RemoteInfo } from 'node:dgram'

/** toListener: from whoever dialled the relay; toConnector: the listener's replies. */
export type RelayDirection = 'toListener' | 'toConnector'
/** Return true to drop this copy (arrival 1 is the first transmission, 2 the first resend, ...). */
export type DropRule = (direction: RelayDirection, seq: number, arrival: number) => boolean

export interface UdpRelay {
  port: number
  /** Arrival times (performance.now()) of each transmission of uTP data packet `seq`. */
  arrivals: (direction: RelayDirection, seq: number) => number[]
  /** Data packets in `direction` that arrived more than once. */
  resent: (direction: RelayDirection) => number
  /** Data packets that arrived in `direction`. */
  sent: (direction: RelayDirection) => number
  /** The most data packets in `direction` sent and not yet cumulatively acked by the other side. */
  maxInFlight: (direction: RelayDirection) => number
  /** SYNs, FINs, RESETs and the acks after a FIN or RESET (until the next SYN), as they arrived. */
  controls: () => ControlPacket[]
  close: () => void
}

/** uTP packet types (the high nibble of a packet's first byte; version 1 in the low one). */
export const ST_DATA = 0
export const ST_FIN = 1
export const ST_STATE = 2
export const ST_RESET = 3
export const ST_SYN = 4
const UTP_VERSION = 1
const TYPE_NAMES = ['DATA', 'FIN', 'STATE', 'RESET', 'SYN']

export interface ControlPacket { atMs: number; direction: RelayDirection; type: number; seq: number; ack: number }

/** A control packet as one line of a failure message. */
export function describeControl (p: ControlPacket): string {
  return `${p.atMs.toFixed(1)} ms ${p.direction} ${TYPE_NAMES[p.type] ?? p.type} seq ${p.seq} ack ${p.ack}`
}

/** The type of a uTP packet, or null for a datagram that is not one. */
export function utpType (msg: Buffer): number | null {
  return msg.length >= 20 && (msg.readUInt8(0) & 15) === UTP_VERSION ? msg.readUInt8(0) >> 4 : null
}

/** A copy of a uTP packet with its type changed. */
export function withUtpType (msg: Buffer, type: number): Buffer {
  const out = Buffer.from(msg)
  out.writeUInt8((type << 4) | UTP_VERSION, 0)
  return out
}

/** How far sequence (or ack) number `a` is past `b`, modulo uTP's 16-bit wrap. */
const ahead = (a: number, b: number): number => (a - b + 65536) % 65536

/**
 * What the relay asks of each socket's receive buffer. At the kernel's default (208 KiB, a hundred or
 * so full datagrams) a libtorrent burst overflowed it, so a test lost datagrams its rules never
 * dropped: 130-380 per run of test/interop/qbittorrent.test.ts. The kernel caps it at
 * net.core.rmem_max.
 */
export const RELAY_RECV_BUFFER = 4 << 20

function bind (s: Socket): Promise<number> {
  return new Promise((resolve) => s.bind(0, '127.0.0.1', () => {
    s.setRecvBufferSize(RELAY_RECV_BUFFER)
    resolve(s.address().port)
  }))
}

/** Returns the datagram(s) to forward in place of `msg` (any uTP packet, not only data), or null to drop it. */
export type RewriteRule = (direction: RelayDirection, msg: Buffer) => Buffer | Buffer[] | null

/** How long to hold `msg` (any uTP packet) before it goes on, in ms. */
export type DelayRule = (direction: RelayDirection, msg: Buffer) => number

/** `delay`: how long each datagram is held before it goes on, either way (a longer path), or a rule. */
export async function udpRelay (listenerPort: number, drop: DropRule, rewrite: RewriteRule = (_d, msg) => msg, delay: number | DelayRule = 0): Promise<UdpRelay> {
  const delayOf: DelayRule = typeof delay === 'number' ? () => delay : delay
  const front = createSocket('udp4')
  const back = createSocket('udp4')
  const seen: Record<RelayDirection, Map<number, number[]>> = { toListener: new Map(), toConnector: new Map() }
  const lastSeq: Partial<Record<RelayDirection, number>> = {}
  const lastAck: Partial<Record<RelayDirection, number>> = {}
  const maxInFlight: Record<RelayDirection, number> = { toListener: 0, toConnector: 0 }
  const other = (d: RelayDirection): RelayDirection => (d === 'toListener' ? 'toConnector' : 'toListener')
  const noteInFlight = (d: RelayDirection): void => {
    const seq = lastSeq[d]
    const ack = lastAck[other(d)]
    // an ack past the last data packet (of a FIN, or a reset's arbitrary number) leaves nothing in flight
    if (seq !== undefined && ack !== undefined && ahead(seq, ack) < 32768) maxInFlight[d] = Math.max(maxInFlight[d], ahead(seq, ack))
  }
  let connector: RemoteInfo | undefined
  const controls: ControlPacket[] = []
  let closing = false
  const openedAt = performance.now()
  const keep = (direction: RelayDirection, msg: Buffer): boolean => {
    const type = utpType(msg)
    if (type === null) return true
    if (type === ST_FIN || type === ST_RESET) closing = true
    if (type === ST_SYN) closing = false
    if (type !== ST_DATA && (type !== ST_STATE || closing)) {
      controls.push({ atMs: performance.now() - openedAt, direction, type, seq: msg.readUInt16BE(16), ack: msg.readUInt16BE(18) })
    }
    // every uTP packet carries the sender's cumulative ack of the other direction
    lastAck[direction] = msg.readUInt16BE(18)
    noteInFlight(other(direction))
    if (type !== ST_DATA) return true
    const seq = msg.readUInt16BE(16)
    const last = lastSeq[direction]
    if (last === undefined || ahead(seq, last) < 32768) lastSeq[direction] = seq
    noteInFlight(direction)
    const times = seen[direction].get(seq) ?? []
    times.push(performance.now())
    seen[direction].set(seq, times)
    return !drop(direction, seq, times.length)
  }
  // timers of one duration fire in the order they were set, so one delay for all keeps the datagrams' order
  let closed = false
  const later = (ms: number, send: () => void): void => {
    if (ms > 0) setTimeout(() => { if (!closed) send() }, ms)
    else send()
  }
  const forward = (direction: RelayDirection, msg: Buffer, send: (out: Buffer) => void): void => {
    const out = keep(direction, msg) ? rewrite(direction, msg) : null
    for (const one of out === null ? [] : Array.isArray(out) ? out : [out]) later(delayOf(direction, one), () => send(one))
  }
  front.on('message', (msg, from) => {
    connector = from
    forward('toListener', msg, (out) => back.send(out, listenerPort, '127.0.0.1'))
  })
  back.on('message', (msg) => {
    const to = connector
    if (to) forward('toConnector', msg, (out) => front.send(out, to.port, to.address))
  })
  const port = await bind(front)
  await bind(back)
  return {
    port,
    arrivals: (direction, seq) => seen[direction].get(seq) ?? [],
    resent: (direction) => [...seen[direction].values()].filter((t) => t.length > 1).length,
    sent: (direction) => seen[direction].size,
    maxInFlight: (direction) => maxInFlight[direction],
    controls: () => [...controls],
    close: () => { closed = true; front.close(); back.close() }
  }
}

/**
 * Rules for a relay that holds every datagram `pathMs`, and closes as a busy libtorrent does: its FIN
 * that acks the connector's FIN is split in two, an ack at once and the FIN `lateFinMs` later; and the
 * listener's data that comes after the connector's FIN is held `holdDataMs` more (lost, and resent
 * after the FIN: libtorrent sends its FIN whatever is still in flight).
 */
export function ackThenLateFin (o: { pathMs: number; lateFinMs: number; holdDataMs?: number }): { rewrite: RewriteRule; delay: DelayRule } {
  let connectorFin: number | undefined
  const finAckingConnectors = (direction: RelayDirection, msg: Buffer): boolean =>
    direction === 'toConnector' && utpType(msg) === ST_FIN && msg.readUInt16BE(18) === connectorFin
  return {
    rewrite: (direction, msg) => {
      if (direction === 'toListener' && utpType(msg) === ST_FIN) connectorFin = msg.readUInt16BE(16)
      if (direction === 'toListener' && utpType(msg) === ST_SYN) connectorFin = undefined // a new connection
      return finAckingConnectors(direction, msg) ? [withUtpType(msg, ST_STATE), msg] : msg
    },
    delay: (direction, msg) => {
      if (finAckingConnectors(direction, msg)) return o.pathMs + o.lateFinMs
      const heldData = direction === 'toConnector' && connectorFin !== undefined && utpType(msg) === ST_DATA
      return o.pathMs + (heldData ? o.holdDataMs ?? 0 : 0)
    }
  }
}

/**
 * Drops the first two transmissions of the nth data packet in `direction` (a loss, then its
 * resend lost too); `target()` is that packet's sequence number once chosen.
 */
export function dropTwice (direction: RelayDirection, nth: number): { rule: DropRule; target: () => number | undefined } {
  let count = 0
  let target: number | undefined
  return {
    rule: (d, seq, arrival) => {
      if (d !== direction) return false
      if (arrival === 1 && ++count === nth) target = seq
      return seq === target && arrival <= 2
    },
    target: () => target
  }
}
