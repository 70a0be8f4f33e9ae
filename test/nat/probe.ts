// Runs in the lab's WAN namespace: connects to HOST:PORT over tcp or udp and exits 0 only when the
// echo listener answered (it stands in for the engine on the home host). Usage: probe.ts tcp|udp HOST PORT
import { connect } from 'node:net'
import { createSocket } from 'node:dgram'

const [proto, host, port] = process.argv.slice(2)
const msg = `ping-${process.pid}`
const done = (ok: boolean, why: string): void => { console.log(`${proto} ${host}:${port} ${why}`); process.exit(ok ? 0 : 1) }
setTimeout(() => done(false, 'timeout'), 1500)
const check = (d: Buffer): void => done(String(d) === `echo:${msg}`, `answered ${String(d)}`)
if (proto === 'tcp') {
  const s = connect(Number(port), host!, () => s.write(msg))
  s.on('data', check).on('error', (e: NodeJS.ErrnoException) => done(false, e.code ?? e.message))
} else {
  const u = createSocket('udp4')
  u.on('message', check).on('error', (e: NodeJS.ErrnoException) => done(false, e.code ?? e.message))
  u.send(msg, Number(port), host!)
}
