import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Settings } from '../../contract/contract.ts'
import { Engine, type PersistedState } from '../../engine/engine.ts'
import { randomPort, defaultSettings } from '../../engine/settings.ts'
import { createHost, type NatProvider } from '../../host/host.ts'
import { NatService, mappedPeerPort } from '../../nat/nat-service.ts'
import { newToken } from '../../server/auth.ts'
import { startServer } from '../../server/server.ts'
import { JsonFileStore } from '../../store/store.ts'
import { parse, portOption } from '../args.ts'
import { defaultDataDir, untilSignal } from '../engine-for-cli.ts'

export const summary = 'run the engine with the web UI on http://127.0.0.1'
const HELP = `usage: shoal serve [--host 127.0.0.1] [--port N] [--data DIR]
                   [--torrent-port N] [--download DIR] [--no-dht] [--no-lsd] [--no-upnp] [--no-nat]

Runs the engine and serves the UI to a browser. The first line printed is the address to open,
with this run's access token:
  Shoal is running at http://127.0.0.1:PORT/?token=TOKEN
Every request without the token is refused. Binds loopback unless --host says otherwise.
  --port N          HTTP port (default: a free one)
  --torrent-port N  peer port for this run (default: the stored one, picked once at random)
  --download DIR    download folder for this run
  --no-nat          no port mapping and no STUN checks (offline tests)
Runs until SIGINT or SIGTERM.`

/** The folder holding package.json: two levels differ between the sources and dist/. */
function packageRoot (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir
    const up = dirname(dir)
    if (up === dir) return process.cwd()
    dir = up
  }
}

export async function run (argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    host: { type: 'string' },
    port: { type: 'string' },
    data: { type: 'string' },
    'torrent-port': { type: 'string' },
    download: { type: 'string' },
    'no-dht': { type: 'boolean' },
    'no-lsd': { type: 'boolean' },
    'no-upnp': { type: 'boolean' },
    'no-nat': { type: 'boolean' }
  }, false)
  if (values.help) { console.log(HELP); return 0 }

  const root = packageRoot()
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version
  const store = new JsonFileStore<PersistedState>(resolve(values.data ?? defaultDataDir()))
  // Port 0 would be a new port each start: pick one once so the router's mapping stays valid.
  const stored = store.get('settings')
  if (!stored?.port) store.set('settings', { ...defaultSettings(), ...(stored ?? {}), port: randomPort() })

  const overrides: Partial<Settings> = {}
  const torrentPort = portOption(values['torrent-port'])
  if (torrentPort !== undefined) overrides.port = torrentPort
  if (values.download) overrides.downloadPath = resolve(values.download)
  if (values['no-dht']) overrides.dht = false
  if (values['no-lsd']) overrides.lsd = false
  if (values['no-upnp']) overrides.upnp = false
  const engine = await Engine.open({ store, overrides, keepHashWorkers: true })

  let nat: NatService | null = null
  if (!values['no-nat']) {
    const s = engine.getSettings()
    nat = new NatService({ port: engine.listeningPort, stunServers: s.stunServers, upnp: s.upnp })
    nat.on('changed', (st) => engine.setAnnouncedPort(mappedPeerPort(st)))
    nat.start().catch(() => { /* the status carries the error for the UI */ })
    engine.on('settings.changed', (next) => {
      nat?.update({ port: engine.listeningPort, stunServers: next.stunServers, upnp: next.upnp }).catch(() => {})
    })
  }

  const host = createHost({ engine, nat: nat as NatProvider | null, desktop: null, transport: 'websocket', version })
  const server = await startServer({
    host,
    token: newToken(),
    rendererDir: join(root, 'dist', 'renderer'),
    uploadRoot: () => engine.getSettings().downloadPath,
    bind: { host: values.host ?? '127.0.0.1', port: portOption(values.port) ?? 0 }
  }).catch(async (err: unknown) => { await engine.close(); throw err })

  // listening before the lines that say it runs: whoever reads them may signal at once
  const stop = untilSignal()
  process.stdout.write(`Shoal is running at ${server.url}\n`)
  process.stderr.write(`peer port ${engine.listeningPort}; Ctrl+C to stop\n`)
  await stop
  await server.close()
  await nat?.close()
  await engine.close()
  return 0
}
