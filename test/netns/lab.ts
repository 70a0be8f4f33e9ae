// Two network namespaces joined by a veth pair, for transports that need a real (non-loopback)
// link: LSD multicast and WebRTC host candidates. 198.18.0.0/15 (benchmark space) exists only
// inside the pair; nothing is linked to the host's namespace, so no packet can leave. Needs root.
// Every process started here is tracked by PID and stopped by PID.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'

export const A_IP = '198.18.0.1'
export const B_IP = '198.18.0.2'
const PREFIX = 'shoaltx_'

/** Why the lab cannot run here, or null when it can. */
export function labUnavailable (): string | null {
  if (process.platform !== 'linux') return 'needs Linux network namespaces'
  if (process.getuid?.() !== 0) return 'needs root (network namespaces); CI runs as root'
  if (spawnSync('sh', ['-c', 'command -v ip']).status !== 0) return 'needs the ip command (apt: iproute2)'
  const probe = `${PREFIX}${process.pid}_probe`
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' })
  if (r.status !== 0) return `cannot create network namespaces here: ${r.stderr.trim()}`
  spawnSync('ip', ['netns', 'del', probe])
  return null
}

function run (cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`)
  return r.stdout
}

function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

function killPid (pid: number): void {
  try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
}

/** Removes namespaces of earlier runs of this lab whose test process is gone (a crash or a kill). */
export function cleanLeftovers (): void {
  for (const line of run('ip', ['netns', 'list']).split('\n')) {
    const ns = line.split(' ')[0]
    if (!ns?.startsWith(PREFIX)) continue
    const owner = Number(ns.slice(PREFIX.length).split('_')[0])
    if (Number.isInteger(owner) && owner > 0 && alive(owner)) continue
    for (const pid of run('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean).map(Number)) killPid(pid)
    spawnSync('ip', ['netns', 'del', ns])
  }
}

export interface NsProcess {
  child: ChildProcess
  lines: string[]
  stderr: () => string
  exited: Promise<number | null>
  /** Resolves with the first stdout line matching `re` (or rejects after `timeoutMs`). */
  line: (re: RegExp, timeoutMs: number) => Promise<string>
  kill: (sig?: NodeJS.Signals) => void
}

export class VethPair {
  readonly a: string
  readonly b: string
  private readonly children = new Set<ChildProcess>()

  /** `tag` keeps test files apart; the test's PID in the name lets a later run clean up after a crash. */
  constructor (tag: string) {
    this.a = `${PREFIX}${process.pid}_${tag}_a`
    this.b = `${PREFIX}${process.pid}_${tag}_b`
  }

  up (): void {
    cleanLeftovers()
    const existing = new Set(run('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]))
    for (const ns of [this.a, this.b]) if (existing.has(ns)) spawnSync('ip', ['netns', 'del', ns])
    for (const ns of [this.a, this.b]) {
      run('ip', ['netns', 'add', ns])
      this.ip(ns, 'link', 'set', 'lo', 'up')
    }
    run('ip', ['link', 'add', 'v0', 'netns', this.a, 'type', 'veth', 'peer', 'name', 'v0', 'netns', this.b])
    for (const [ns, addr] of [[this.a, A_IP], [this.b, B_IP]] as const) {
      this.ip(ns, 'addr', 'add', `${addr}/24`, 'dev', 'v0')
      this.ip(ns, 'link', 'set', 'v0', 'multicast', 'on')
      this.ip(ns, 'link', 'set', 'v0', 'up')
      // Multicast (LSD's 239.192.152.143) leaves by the veth: no default route exists in here.
      this.ip(ns, 'route', 'add', '224.0.0.0/4', 'dev', 'v0')
    }
  }

  ip (ns: string, ...args: string[]): string {
    return run('ip', ['-n', ns, ...args])
  }

  /** Starts `node args...` inside `ns`. */
  node (ns: string, args: string[], env: NodeJS.ProcessEnv = {}): NsProcess {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
    this.children.add(child)
    const lines: string[] = []
    const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = []
    let err = ''
    createInterface({ input: child.stdout! }).on('line', (l) => {
      lines.push(l)
      for (const w of [...waiters]) if (w.re.test(l)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(l) }
    })
    child.stderr!.on('data', (d) => { err += d })
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => { this.children.delete(child); r(code) }))
    const line = (re: RegExp, timeoutMs: number): Promise<string> => {
      const seen = lines.find((l) => re.test(l))
      if (seen !== undefined) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no output line matching ${re} within ${timeoutMs} ms; stdout: ${lines.join('\n')}; stderr: ${err.slice(-2000)}`)), timeoutMs)
        const w = { re, resolve: (l: string) => { clearTimeout(timer); resolve(l) } }
        waiters.push(w)
        void exited.then((code) => {
          if (!waiters.includes(w)) return
          clearTimeout(timer)
          reject(new Error(`process exited (${code}) before printing a line matching ${re}; stdout: ${lines.join('\n')}; stderr: ${err.slice(-2000)}`))
        })
      })
    }
    const kill = (sig: NodeJS.Signals = 'SIGTERM') => { if (child.exitCode === null && child.signalCode === null) child.kill(sig) }
    return { child, lines, stderr: () => err, exited, line, kill }
  }

  /** Stops our processes (SIGTERM, then SIGKILL by PID), then deletes the namespaces; safe any time. */
  async down (): Promise<void> {
    const running = [...this.children]
    for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM')
    const deadline = Date.now() + 5000
    while (running.some((c) => c.exitCode === null && c.signalCode === null) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    const existing = new Set(run('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]))
    for (const ns of [this.a, this.b].filter((n) => existing.has(n))) {
      // Anything still inside our own namespaces was started by this lab.
      for (const pid of run('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean).map(Number)) killPid(pid)
      spawnSync('ip', ['netns', 'del', ns])
    }
  }
}
