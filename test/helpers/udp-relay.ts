// A loopback UDP relay in front of a uTP listener that can drop chosen uTP data packets, and records
// when each one arrived (so a test can see how a sender recovered).
import { createSocket, type Socket, type RemoteInfo } from 'node:dgram'

/** toListener: from whoever dialled the relay; toConnector: the listener's replies. */
export type RelayDirection = 'toListener' | 'toConnector'
/** Return true to drop this copy (arrival 1 is the first transmission, 2 the first resend, ...). */
export type DropRule = (direction: RelayDirection, seq: number, arrival: number) => boolean

export interface UdpRelay {
  port: number
  /** Arrival times (performance.now()) of each transmission of uTP data packet `seq`. */
  arrivals: (direction: RelayDirection, seq: number) => number[]
  close: () => void
}

const ST_DATA = 0
const UTP_VERSION = 1

function bind (s: Socket): Promise<number> {
  return new Promise((resolve) => s.bind(0, '127.0.0.1', () => resolve(s.address().port)))
}

export async function udpRelay (listenerPort: number, drop: DropRule): Promise<UdpRelay> {
  const front = createSocket('udp4')
  const back = createSocket('udp4')
  const seen: Record<RelayDirection, Map<number, number[]>> = { toListener: new Map(), toConnector: new Map() }
  let connector: RemoteInfo | undefined
  const keep = (direction: RelayDirection, msg: Buffer): boolean => {
    if (msg.length < 20) return true
    const typeAndVersion = msg.readUInt8(0)
    if ((typeAndVersion & 15) !== UTP_VERSION || typeAndVersion >> 4 !== ST_DATA) return true
    const seq = msg.readUInt16BE(16)
    const times = seen[direction].get(seq) ?? []
    times.push(performance.now())
    seen[direction].set(seq, times)
    return !drop(direction, seq, times.length)
  }
  front.on('message', (msg, from) => {
    connector = from
    if (keep('toListener', msg)) back.send(msg, listenerPort, '127.0.0.1')
  })
  back.on('message', (msg) => {
    if (connector && keep('toConnector', msg)) front.send(msg, connector.port, connector.address)
  })
  const port = await bind(front)
  await bind(back)
  return {
    port,
    arrivals: (direction, seq) => seen[direction].get(seq) ?? [],
    close: () => { front.close(); back.close() }
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
