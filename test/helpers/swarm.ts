// Local swarm infrastructure on loopback: a tracker and a DHT bootstrap node.
import { Server as TrackerServer } from 'bittorrent-tracker'
import DHT from 'bittorrent-dht'

export async function startTracker (): Promise<{ announce: string; announced: string[]; close: () => Promise<void> }> {
  const server = new TrackerServer({ udp: false, http: true, ws: false, stats: false })
  // "ip:port" of every announce the tracker received, in order.
  const announced: string[] = []
  for (const ev of ['start', 'update', 'complete'] as const) server.on(ev, (addr: string) => { announced.push(addr) })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.http!.address() as { port: number }).port
  return { announce: `http://127.0.0.1:${port}/announce`, announced, close: () => new Promise((r) => server.close(() => r())) }
}

export async function startDhtBootstrap (): Promise<{ node: string; close: () => Promise<void> }> {
  const dht = new DHT({ bootstrap: false, host: '127.0.0.1' })
  await new Promise<void>((resolve) => dht.listen(0, '127.0.0.1', () => resolve()))
  return { node: `127.0.0.1:${dht.address().port}`, close: () => new Promise((r) => dht.destroy(() => r())) }
}
