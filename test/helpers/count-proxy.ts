// A TCP relay on loopback that counts the bytes of each connection in each direction: lets a test
// see exactly what two real peers said to each other, without changing either of them. With
// `delayMs` it holds each chunk that long each way, a long path between two real peers on one host
// (this kernel has no netem). With `turnAway` it closes that many first connections once they have
// sent something, relaying nothing, as libtorrent closes a handshake for a torrent it has not
// started yet.
import { createServer, connect, type Server, type Socket } from 'node:net'

export interface RelayedConnection {
  /** Bytes from the side that dialled the relay to the target. */
  toTarget: number
  /** Bytes from the target back to the dialler. */
  fromTarget: number
  closed: boolean
  /** When the dialler's connection was accepted (performance.now()). */
  openedAt: number
}

export interface CountingProxy {
  port: number
  connections: RelayedConnection[]
  close: () => Promise<void>
}

export async function countingProxy (targetPort: number, targetHost = '127.0.0.1', o: { delayMs?: number; turnAway?: number } = {}): Promise<CountingProxy> {
  // Timers of one duration fire in the order they were set, so a delayed stream stays in order.
  const send = (to: Socket, d: Buffer): void => {
    if (o.delayMs) setTimeout(() => { if (!to.destroyed) to.write(d) }, o.delayMs)
    else to.write(d)
  }
  const connections: RelayedConnection[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((inc) => {
    const c: RelayedConnection = { toTarget: 0, fromTarget: 0, closed: false, openedAt: performance.now() }
    connections.push(c)
    if (connections.length <= (o.turnAway ?? 0)) {
      sockets.add(inc)
      inc.on('error', () => {})
      inc.once('data', (d: Buffer) => { c.toTarget += d.length; inc.destroy() })
      inc.on('close', () => { sockets.delete(inc); c.closed = true })
      return
    }
    const out = connect({ port: targetPort, host: targetHost })
    sockets.add(inc)
    sockets.add(out)
    let open = 2
    const closeOne = () => { if (--open === 0) c.closed = true; inc.destroy(); out.destroy() }
    inc.on('data', (d: Buffer) => { c.toTarget += d.length; send(out, d) })
    out.on('data', (d: Buffer) => { c.fromTarget += d.length; send(inc, d) })
    for (const s of [inc, out]) {
      s.on('error', () => {})
      s.on('close', () => { sockets.delete(s); closeOne() })
    }
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return {
    port: (server.address() as { port: number }).port,
    connections,
    close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()) })
  }
}
