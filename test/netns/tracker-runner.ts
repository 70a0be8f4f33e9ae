// A WebSocket tracker (bittorrent-tracker, ws only) for the namespace tests. Run inside a namespace:
//   node test/netns/tracker-runner.ts HOST
// Prints {"type":"listening","url":"ws://HOST:PORT"}, then one JSON line per event; stops on SIGTERM.
import { Server as TrackerServer } from 'bittorrent-tracker'

const host = process.argv[2] ?? '127.0.0.1'
const server = new TrackerServer({ udp: false, http: false, ws: true, stats: false })
const say = (o: Record<string, unknown>) => console.log(JSON.stringify(o))
server.on('error', (err: Error) => { say({ type: 'error', message: err.message }); process.exit(1) })
server.on('warning', (err: Error) => say({ type: 'warning', message: err.message }))
server.on('start', (addr: string) => say({ type: 'start', addr }))
server.listen(0, { http: host }, () => {
  const port = (server.http!.address() as { port: number }).port
  say({ type: 'listening', url: `ws://${host}:${port}` })
})
const stop = () => server.close(() => process.exit(0))
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
