// One Shoal engine for the namespace tests, with the peer list the CLI does not print. Run inside a
// namespace (a namespace applies to a whole process, so each engine is its own process):
//   node test/netns/engine-runner.ts seed FILE DATA_DIR [ANNOUNCE_URL]   prints {"type":"shared",magnetURI,...}
//   node test/netns/engine-runner.ts get MAGNET DATA_DIR                  downloads into DATA_DIR/downloads
// Both print {"type":"status",progress,transports,peers} every 250 ms and stop on SIGTERM; `get` prints
// {"type":"done",...} when the download is complete and verified. DHT, LSD and UPnP are off.
import { join } from 'node:path'
import { exitOnSignal, openTestEngine } from '../helpers/engines.ts'

const [mode, source, dataDir, announce] = process.argv.slice(2)
if ((mode !== 'seed' && mode !== 'get') || !source || !dataDir) {
  console.error('usage: engine-runner.ts seed FILE DATA_DIR [ANNOUNCE_URL] | get MAGNET DATA_DIR')
  process.exit(2)
}
const say = (o: Record<string, unknown>) => console.log(JSON.stringify(o))
const engine = await openTestEngine({ dataDir })
engine.on('error', (err) => say({ type: 'engine-error', message: err.message }))
let infoHash: string
if (mode === 'seed') {
  const s = await engine.share([source], announce ? { announce: [announce] } : {})
  infoHash = s.infoHash
  say({ type: 'shared', infoHash, magnetURI: s.magnetURI })
} else {
  infoHash = (await engine.add(source)).infoHash
  say({ type: 'added', infoHash })
}
// Every transport any peer used, kept after the wire closes (seeders part once both are complete).
const transports = new Set<string>()
let reportedDone = false
const timer = setInterval(() => {
  const t = engine.list().find((x) => x.infoHash === infoHash)
  const peers = engine.peers(infoHash)
  for (const p of peers) transports.add(p.transport)
  const view = peers.map((p) => ({ id: p.id, address: p.address, transport: p.transport, client: p.client, downloaded: p.downloaded, uploaded: p.uploaded }))
  say({ type: 'status', state: t?.state, progress: t?.progress, transports: [...transports], peers: view })
  if (mode === 'get' && !reportedDone && t && t.progress >= 1 && t.state !== 'checking' && t.state !== 'metadata') {
    reportedDone = true
    say({ type: 'done', infoHash, name: t.name, path: join(dataDir, 'downloads', t.name), transports: [...transports], peers: view })
  }
}, 250)
exitOnSignal(engine, timer)
