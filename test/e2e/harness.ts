// Real `shoal serve` processes (the built CLI) on loopback, and Debian's Chromium through
// playwright-core. Each test kills only the processes it started, by PID.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { join, resolve } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { cliCommand } from '../helpers/cli.ts'

const ROOT = resolve(import.meta.dirname, '..', '..')
// SHOAL_CLI: a private copy of the build (as in the interop helpers), e.g. to compare two builds' figures.
export const CLI = process.env.SHOAL_CLI ?? join(ROOT, 'dist', 'main', 'cli', 'shoal.js')
export const CHROMIUM = process.env.SHOAL_CHROMIUM ?? '/usr/lib/chromium/chromium'

export interface Served {
  url: string
  origin: string
  token: string
  peerPort: number
  downloads: string
  child: ChildProcess
  stop(): Promise<void>
}

/** Starts `shoal serve` on loopback with no DHT, LSD, UPnP or STUN: test traffic stays on this machine. */
export async function startServe (dataDir: string, extra: string[] = []): Promise<Served> {
  const downloads = join(dataDir, 'downloads')
  const child = spawn(...cliCommand(['serve', '--port', '0', '--data', dataDir, '--download', downloads,
    '--torrent-port', '0', '--no-dht', '--no-lsd', '--no-upnp', '--no-nat', ...extra], CLI), { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
  const firstLine = await new Promise<string>((resolveLine, reject) => {
    const rl = createInterface({ input: child.stdout! })
    const timer = setTimeout(() => reject(new Error(`shoal serve printed nothing in 20 s: ${stderr}`)), 20000)
    rl.once('line', (line) => { clearTimeout(timer); resolveLine(line) })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`shoal serve exited ${code}: ${stderr}`)) })
  })
  const m = /^Shoal is running at (http:\/\/[^/]+)\/\?token=(\S+)$/.exec(firstLine)
  if (!m) throw new Error(`unexpected first line: ${firstLine}`)
  const peerLine = await waitForText(() => stderr, /peer port (\d+)/)
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000)
    await exited
    clearTimeout(timer)
  }
  return { url: `${m[1]}/?token=${m[2]}`, origin: m[1]!, token: m[2]!, peerPort: Number(peerLine[1]), downloads, child, stop }
}

async function waitForText (get: () => string, re: RegExp, ms = 10000): Promise<RegExpExecArray> {
  const deadline = Date.now() + ms
  for (;;) {
    const m = re.exec(get())
    if (m) return m
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

export function launchBrowser (): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
  })
}

/** A contract client over the WebSocket, for test set-up that is not what the test is about. */
export class WsApi {
  private ws!: WebSocket
  private id = 1
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error & { code?: string }) => void }>()
  readonly events: Array<{ event: string; payload: unknown }> = []

  static async open (s: Served): Promise<WsApi> {
    const api = new WsApi()
    api.ws = new WebSocket(`${s.origin.replace('http', 'ws')}/ws?token=${encodeURIComponent(s.token)}`)
    api.ws.onmessage = (ev) => {
      const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { code: string; message: string }; event?: string; payload?: unknown }
      if (msg.event) { api.events.push({ event: msg.event, payload: msg.payload }); return }
      const p = api.pending.get(msg.id as number)
      if (!p) return
      api.pending.delete(msg.id as number)
      if (msg.error) p.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }))
      else p.resolve(msg.result)
    }
    await new Promise<void>((res, rej) => { api.ws.onopen = () => res(); api.ws.onerror = () => rej(new Error('WebSocket refused')) })
    return api
  }

  call<T = unknown> (name: string, args: unknown = {}): Promise<T> {
    const id = this.id++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.ws.send(JSON.stringify({ id, call: name, args }))
    })
  }

  close (): void { this.ws.close() }
}
