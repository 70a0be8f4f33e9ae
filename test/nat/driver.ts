// Runs inside the lab's home namespace and drives a NatService for a test, one JSON command per
// stdin line, one JSON answer per stdout line; NatService 'changed' events come as {"event":...}.
// It can also stand in for the engine's listener: TCP and UDP echo servers on a port.
import { createInterface } from 'node:readline'
import { createServer, type Server } from 'node:net'
import { createSocket, type Socket } from 'node:dgram'
import { NatService, type NatServiceOptions } from '../../main/nat/nat-service.ts'

export type DriverCommand =
  | { op: 'start'; opts: NatServiceOptions }
  | { op: 'status' | 'refresh' | 'close' | 'exit' }
  | { op: 'setPort'; port: number }
  | { op: 'listen'; port: number }

let service: NatService | null = null
const listeners: Array<Server | Socket> = []

function reply (msg: unknown): void {
  process.stdout.write(JSON.stringify(msg) + '\n')
}

async function handle (cmd: DriverCommand): Promise<unknown> {
  switch (cmd.op) {
    case 'start':
      service = new NatService(cmd.opts)
      service.on('changed', (status) => reply({ event: 'changed', status }))
      return service.start()
    case 'status': return service!.status()
    case 'refresh': return service!.refresh()
    case 'setPort': return service!.setPort(cmd.port)
    case 'close': await service!.close(); return service!.status()
    case 'listen': return listen(cmd.port)
    case 'exit':
      for (const l of listeners) l.close()
      setImmediate(() => process.exit(0))
      return null
  }
}

async function listen (port: number): Promise<null> {
  const tcp = createServer((s) => s.on('data', (d) => s.end(`echo:${d}`)).on('error', () => {}))
  await new Promise<void>((resolve) => tcp.listen(port, '0.0.0.0', resolve))
  const udp = createSocket('udp4')
  udp.on('message', (m, r) => udp.send(`echo:${m}`, r.port, r.address))
  await new Promise<void>((resolve) => udp.bind(port, '0.0.0.0', resolve))
  listeners.push(tcp, udp)
  return null
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line) as DriverCommand
  handle(cmd).then((result) => reply({ ok: true, result }), (err: unknown) => reply({ ok: false, error: String(err) }))
})
