// Raw webtorrent 3 as a separate process (so its RSS and CPU are its own), loopback only:
//   node wt-runner.ts seed <file.torrent> <dir> <port>        prints "ready" once verified, seeds until SIGTERM
//   node wt-runner.ts get <file.torrent> <dir> <port> <peer>  exits 0 when complete
// No DHT, LSD, PEX, UPnP/NAT-PMP, uTP; trackers only if the .torrent names one (the bench's own).
import WebTorrent from 'webtorrent'
import { readFileSync } from 'node:fs'

const [mode, torrentFile, dir, port, peer] = process.argv.slice(2)
const client = new WebTorrent({ dht: false, lsd: false, utPex: false, natUpnp: false, natPmp: false, utp: false, torrentPort: Number(port) } as ConstructorParameters<typeof WebTorrent>[0])
client.on('error', (err: unknown) => { console.error(`webtorrent: ${String(err)}`); process.exit(2) })
const torrent = client.add(readFileSync(torrentFile!), { path: dir })
torrent.on('error', (err: unknown) => { console.error(`torrent: ${String(err)}`); process.exit(2) })
if (mode === 'seed') {
  torrent.on('ready', () => {
    const check = () => { if (torrent.done) console.log('ready'); else setTimeout(check, 50) }
    check()
  })
} else {
  torrent.on('infoHash', () => { if (peer) torrent.addPeer(peer) })
  torrent.on('done', () => { console.log('done'); client.destroy(() => process.exit(0)) })
}
process.on('SIGTERM', () => client.destroy(() => process.exit(0)))
