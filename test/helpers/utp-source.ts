// A uTP sender in a process of its own (run with node, args: port bytes): connects to 127.0.0.1:port,
// sends that many bytes of a seeded pattern in 64 KiB writes, ends, and prints {"sha256":"..."}
// once the connection has closed. Its own process, so a tracer sees only the sender's syscalls.
import { createHash } from 'node:crypto'
import { utp } from './utp-native.ts'

const [port, total] = process.argv.slice(2).map(Number) as [number, number]
const chunk = Buffer.alloc(64 * 1024)
for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 2654435761) >>> 24
const hash = createHash('sha256')
const c = utp.connect(port, '127.0.0.1')
c.on('error', (err) => { console.error(err.message); process.exit(1) })
let sent = 0
const more = (): void => {
  while (sent < total) {
    const piece = chunk.subarray(0, Math.min(chunk.length, total - sent))
    sent += piece.length
    hash.update(piece)
    if (!c.write(piece)) { c.once('drain', more); return }
  }
  c.end()
}
more()
c.on('close', () => { console.log(JSON.stringify({ sha256: hash.digest('hex') })); process.exit(0) })
