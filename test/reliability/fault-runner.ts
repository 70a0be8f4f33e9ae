// One Shoal engine in its own process, for fault tests that kill it (SIGKILL) or run it inside a
// network namespace. One argument, a JSON object:
//   {"mode":"seed","file":F,"data":D,"upload":BYTES_PER_S?,"port":N?,"pieceLength":N?}
//        prints {"type":"shared",infoHash,magnetURI,torrent(base64),port}
//   {"mode":"get","source":MAGNET_OR_TORRENT_PATH,"data":D,"peers":["host:port"]?,"port":N?}
//        downloads into D/downloads; re-run with the same D it continues the stored torrent.
// Both print {"type":"status",state,progress,error,errorCode,pieces(base64 bitfield),pieceCount,wires,downloaded}
// every 200 ms and stop on SIGTERM. DHT, LSD and UPnP are off; peers are given explicitly.
import { exitOnSignal, openTestEngine } from '../helpers/engines.ts'
import { EngineError } from '../../main/engine/errors.ts'

interface Args { mode: 'seed' | 'get'; data: string; file?: string; source?: string; peers?: string[]; upload?: number; port?: number; pieceLength?: number }
const a = JSON.parse(process.argv[2] ?? '{}') as Args
const say = (o: Record<string, unknown>) => console.log(JSON.stringify(o))
const engine = await openTestEngine({ dataDir: a.data, settings: { ...(a.upload ? { maxUploadSpeed: a.upload } : {}), ...(a.port ? { port: a.port } : {}) } })
engine.on('error', (err) => say({ type: 'engine-error', message: err.message }))
let infoHash: string
if (a.mode === 'seed') {
  const s = await engine.share([a.file!], a.pieceLength ? { pieceLength: a.pieceLength } : {})
  infoHash = s.infoHash
  say({ type: 'shared', infoHash, magnetURI: s.magnetURI, torrent: Buffer.from(engine.exportTorrent(infoHash).bytes).toString('base64'), port: engine.listeningPort })
} else {
  const peers = a.peers ?? []
  try {
    infoHash = (await engine.add(a.source!, { peers })).infoHash
  } catch (err) {
    // Stored by an earlier (killed) run of this data folder: it was restarted by Engine.open.
    if (!(err instanceof EngineError && err.code === 'DUPLICATE' && err.infoHash)) throw err
    infoHash = err.infoHash
    for (const p of peers) engine.addPeer(infoHash, p)
  }
  say({ type: 'added', infoHash })
}
const timer = setInterval(() => {
  const t = engine.detail(infoHash)
  say({ type: 'status', state: t.state, progress: t.progress, error: t.error, errorCode: t.errorCode, pieces: t.pieces, pieceCount: t.pieceCount, wires: t.peers + t.seeds, downloaded: t.downloaded, uploaded: t.uploaded })
}, 200)
exitOnSignal(engine, timer)
