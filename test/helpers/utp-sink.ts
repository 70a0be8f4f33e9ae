// A uTP receiver in a process of its own (run with node): prints {"port":N} once listening, then for
// the first connection {"bytes":N,"sha256":"...","reads":N} when the sender ends it (reads: how many
// chunks utp-native handed it), and exits. Its own
// process, so its socket and event loop are a peer's, not the sender's.
import { createHash } from 'node:crypto'
import { utp } from './utp-native.ts'

const server = utp.createServer()
server.on('connection', (c) => {
  const hash = createHash('sha256')
  let bytes = 0
  let reads = 0
  c.on('data', (d: Buffer) => { bytes += d.length; reads++; hash.update(d) })
  c.on('error', (err) => { console.error(err.message); process.exit(1) })
  c.on('end', () => {
    console.log(JSON.stringify({ bytes, sha256: hash.digest('hex'), reads }))
    c.end()
    c.on('close', () => { server.close(); process.exit(0) })
  })
})
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })))
