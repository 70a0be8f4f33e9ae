// Interop test plumbing: the built Shoal CLI, free loopback ports, child processes we started
// (and only those, ended by PID), an in-process HTTP tracker on 127.0.0.1.
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess, SpawnOptions } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer, createConnection } from 'node:net'
import { basename, delimiter, join, resolve, dirname } from 'node:path'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { randomFile, sha256File } from '../../helpers/fixtures.ts'
import { cliCommand } from '../../helpers/cli.ts'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

/** Path of the built CLI (dist/main/cli/shoal.js); throws a clear error if `npm run build` has not been run. */
export function shoalBin (): string {
  // SHOAL_CLI lets a developer point at a private copy of the build while others rebuild dist/.
  const p = process.env.SHOAL_CLI ?? join(root, 'dist', 'main', 'cli', 'shoal.js')
  if (!existsSync(p)) throw new Error(`${p} is missing: run 'npm run build' before the interop tests`)
  return p
}

/** True if `name` is an executable on PATH. */
export function hasBinary (name: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((d) => d !== '' && existsSync(join(d, name)))
}

/** A TCP port on 127.0.0.1 that was free a moment ago (also checked free for UDP by the OS picking it for TCP only; good enough on loopback). */
export function freePort (): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer()
    s.once('error', rej)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      const port = typeof a === 'object' && a ? a.port : 0
      s.close(() => res(port))
    })
  })
}

export interface Proc {
  child: ChildProcess
  name: string
  /** Everything written to stdout and stderr so far (for failure messages). */
  output: () => string
  exited: Promise<number | null>
}

/** Children started by this test file; `stopAll` ends each by its PID. */
export class Procs {
  private list: Proc[] = []

  start (name: string, cmd: string, args: string[], opts: SpawnOptions = {}): Proc {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts })
    let out = ''
    const keep = (d: Buffer) => { out += d.toString(); if (out.length > 20000) out = out.slice(-20000) }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    const exited = new Promise<number | null>((r) => {
      child.once('exit', (code, signal) => r(code ?? (signal ? -1 : null)))
      child.once('error', (err) => { out += `\nspawn error: ${err.message}`; r(-2) })
    })
    const p: Proc = { child, name, output: () => out, exited }
    this.list.push(p)
    return p
  }

  /** SIGTERM to every still-running child we started, then SIGKILL after 5 s. */
  async stopAll (): Promise<void> {
    const running = this.list.filter((p) => p.child.exitCode === null && p.child.signalCode === null && p.child.pid !== undefined)
    for (const p of running) { try { process.kill(p.child.pid!, 'SIGTERM') } catch { /* already gone */ } }
    await Promise.all(running.map(async (p) => {
      const t = setTimeout(() => { try { process.kill(p.child.pid!, 'SIGKILL') } catch { /* gone */ } }, 5000)
      await p.exited
      clearTimeout(t)
    }))
    this.list = []
  }

  describe (): string {
    return this.list.map((p) => `--- ${p.name} (pid ${p.child.pid}, exit ${p.child.exitCode ?? p.child.signalCode ?? 'running'}):\n${p.output().slice(-3000)}`).join('\n')
  }
}

/** Resolves with the first stdout line of `p`, or rejects if it exits or `timeoutMs` passes first. */
export function firstLine (p: Proc, timeoutMs: number): Promise<string> {
  return new Promise((res, rej) => {
    const rl = createInterface({ input: p.child.stdout! })
    const t = setTimeout(() => { rl.close(); rej(new Error(`${p.name} printed no line within ${timeoutMs} ms:\n${p.output()}`)) }, timeoutMs)
    rl.once('line', (l) => { clearTimeout(t); rl.close(); res(l) })
    void p.exited.then((code) => { clearTimeout(t); rej(new Error(`${p.name} exited (${code}) before printing a line:\n${p.output()}`)) })
  })
}

/** Runs a command to completion (bounded); returns status and output. */
export function runSync (cmd: string, args: string[], timeoutMs = 60000): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs })
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` }
}

/** Starts `shoal seed` on loopback only; resolves with the process and its magnet URI. */
export async function shoalSeed (procs: Procs, path: string, o: { port: number; data: string; announce?: string; infoHash?: string }): Promise<{ proc: Proc; magnet: string }> {
  const [cmd, args] = shoalCommand('seed', path, '--no-dht', '--no-lsd', '--port', String(o.port), '--data', o.data)
  if (o.announce) args.push('--announce', o.announce)
  const proc = procs.start('shoal seed', cmd, args)
  const magnet = await firstLine(proc, 60000)
  if (!magnet.startsWith('magnet:?')) throw new Error(`shoal seed printed '${magnet}' instead of a magnet URI`)
  assert.ok(!o.infoHash || magnet.includes(o.infoHash), `shoal seed's magnet ${magnet} is not for ${o.infoHash}`)
  return { proc, magnet }
}

/** <dir>/seed/payload.bin of `size` random bytes and <dir>/payload.torrent made by `shoal create`. */
export function shoalPayload (dir: string, size: number, announce?: string): { src: string; torrent: string; infoHash: string } {
  const src = randomFile(join(dir, 'seed', 'payload.bin'), size)
  const torrent = join(dir, 'payload.torrent')
  return { src, torrent, infoHash: shoalCreate(src, torrent, announce) }
}

/** A command and arguments for spawn that run the CLI as the `shoal` command does (its `#!` line). */
export function shoalCommand (...args: string[]): [string, string[]] {
  return cliCommand(args, shoalBin())
}

/**
 * Runs `shoal get` to completion on loopback only; resolves with its exit code, and with when it
 * exited and when it printed "done" (Date.now(); null if it never did).
 */
export async function shoalGet (procs: Procs, source: string, o: { out: string; data: string; port: number; peers?: string[]; timeoutS: number }): Promise<{ code: number | null; proc: Proc; doneAt: number | null; exitedAt: number }> {
  const [cmd, args] = shoalCommand('get', source, '--out', o.out, '--no-dht', '--no-lsd', '--port', String(o.port), '--data', o.data, '--json', '--timeout', String(o.timeoutS))
  for (const p of o.peers ?? []) args.push('--peer', p)
  const proc = procs.start('shoal get', cmd, args)
  let doneAt: number | null = null
  createInterface({ input: proc.child.stdout! }).on('line', (l) => { if (l.startsWith('{"type":"done"')) doneAt = Date.now() })
  const kill = setTimeout(() => { try { process.kill(proc.child.pid!, 'SIGKILL') } catch { /* gone */ } }, (o.timeoutS + 30) * 1000)
  const code = await proc.exited
  const exitedAt = Date.now()
  clearTimeout(kill)
  return { code, proc, doneAt, exitedAt }
}

/**
 * `shoal get` of `torrent` from one peer into <dir>/out (data folder <dir>/data); asserts it exits 0
 * and that the file `src` names arrived byte for byte (SHA-256).
 */
export async function assertShoalGetsFrom (procs: Procs, torrent: string, dir: string, peer: string, src: string): Promise<void> {
  const out = join(dir, 'out')
  const { code, proc } = await shoalGet(procs, torrent, { out, data: join(dir, 'data'), port: await freePort(), peers: [peer], timeoutS: 90 })
  assert.equal(code, 0, `shoal get failed:\n${proc.output().split('\n').slice(-5).join('\n')}\n${procs.describe()}`)
  assert.equal(await sha256File(join(out, basename(src))), await sha256File(src))
}

/** `shoal create` with the given tracker; returns the info hash it printed. */
export function shoalCreate (path: string, out: string, announce?: string): string {
  const [cmd, args] = shoalCommand('create', path, '-o', out)
  if (announce) args.push('--announce', announce)
  const r = runSync(cmd, args)
  if (r.status !== 0) throw new Error(`shoal create failed (${r.status}):\n${r.out}`)
  const m = /[0-9a-f]{40}/.exec(r.out)
  if (!m) throw new Error(`shoal create printed no info hash:\n${r.out}`)
  return m[0]
}

export interface LocalTracker { announce: string; peerCount: (infoHash: string) => number; close: () => Promise<void> }

/** bittorrent-tracker's HTTP server on 127.0.0.1 (no UDP, no WebSocket). */
export async function startTracker (): Promise<LocalTracker> {
  const { Server } = await import('bittorrent-tracker')
  const server = new Server({ udp: false, http: true, ws: false, stats: false, interval: 5000 })
  server.on('error', () => { /* reported via failing waits */ })
  server.on('warning', () => {})
  const port = await freePort()
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()))
  return {
    announce: `http://127.0.0.1:${port}/announce`,
    peerCount: (ih) => {
      const swarm = server.torrents[ih] as (typeof server.torrents)[string] | undefined
      return swarm ? swarm.peers.keys.length : 0
    },
    close: () => new Promise<void>((r) => server.close(() => r()))
  }
}

/** Exit code of `p`, or 'timeout' if it is still running after `ms` (the timer never outlives the wait). */
export async function exitWithin (p: Proc, ms: number): Promise<number | null | 'timeout'> {
  let timer: NodeJS.Timeout | undefined
  const r = await Promise.race([p.exited, new Promise<'timeout'>((res) => { timer = setTimeout(() => res('timeout'), ms) })])
  clearTimeout(timer)
  return r
}

/** True once something accepts TCP connections on 127.0.0.1:`port`. */
export function tcpOpen (port: number): Promise<boolean> {
  return new Promise<boolean>((r) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => { s.destroy(); r(true) })
    s.on('error', () => r(false))
  })
}

/** Throws if `p` has exited (e.g. shoal seed crashed while serving). */
export function assertRunning (p: Proc): void {
  if (p.child.exitCode !== null || p.child.signalCode !== null) {
    throw new Error(`${p.name} is no longer running (exit ${p.child.exitCode ?? p.child.signalCode}):\n${p.output().slice(-3000)}`)
  }
}
