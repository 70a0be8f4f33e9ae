// Peers for the load and churn tests, in their own process (so their CPU does not count against the
// engine's event loop): raw webtorrent 3 clients on loopback, no DHT, LSD, PEX, trackers or uTP.
//   node load-peers.ts <dir> <enginePort> <torrentsDir>
// Reads commands on stdin, one per line:
//   join <client> <i,j,...>   a new client that adds those torrents (<torrentsDir>/<i>.torrent) and dials the engine
//   leave <client>            that client goes away (its wires close)
//   quit                      all go away, then the process exits
// Prints "wires <n>" (open wires over all clients) every second, and "joined <client>" once a client
// has added its torrents.
import WebTorrent from 'webtorrent'
import { readFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

const [dir, enginePort, torrentsDir] = process.argv.slice(2) as [string, string, string]
const peer = `127.0.0.1:${enginePort}`
const clients = new Map<string, WebTorrent>()

function join_ (id: string, indices: number[]): void {
  const client = new WebTorrent({ dht: false, lsd: false, tracker: false, utPex: false, natUpnp: false, natPmp: false, utp: false, torrentPort: 0 })
  client.on('error', (err: unknown) => console.error(`peer ${id}: ${String(err)}`))
  clients.set(id, client)
  const path = join(dir, id)
  mkdirSync(path, { recursive: true })
  for (const i of indices) {
    const t = client.add(readFileSync(join(torrentsDir, `${i}.torrent`)), { path, announce: [] })
    t.on('error', () => {})
    t.on('ready', () => t.addPeer(peer))
  }
  console.log(`joined ${id}`)
}

function leave (id: string): Promise<void> {
  const c = clients.get(id)
  clients.delete(id)
  return new Promise((resolve) => (c ? c.destroy(() => resolve()) : resolve()))
}

setInterval(() => {
  let wires = 0
  for (const c of clients.values()) for (const t of c.torrents) wires += t.wires.length
  console.log(`wires ${wires}`)
}, 1000)

createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, id, list] = line.trim().split(' ')
  if (cmd === 'join' && id) join_(id, (list ?? '').split(',').filter(Boolean).map(Number))
  else if (cmd === 'leave' && id) void leave(id).then(() => console.log(`left ${id}`))
  else if (cmd === 'quit') void Promise.all([...clients.keys()].map(leave)).then(() => process.exit(0))
})
process.on('SIGTERM', () => process.exit(0))
