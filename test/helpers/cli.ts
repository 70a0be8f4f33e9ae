// Runs the built CLI (dist/), as users run it. `npm test` builds first.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'

export const CLI = resolve(import.meta.dirname, '../../dist/main/cli/shoal.js')

/** The CLI's `#!/usr/bin/env -S [NAME=value...] node [flags...]` line: what the `shoal` command starts with. */
export function cliLaunch (cli = CLI): { env: Record<string, string>; flags: string[] } {
  const first = readFileSync(cli, 'utf8').split('\n', 1)[0]!
  const words = (/^#!\/usr\/bin\/env -S (.*)$/.exec(first)?.[1] ?? '').trim().split(/\s+/)
  const node = words.indexOf('node')
  if (node === -1) return { env: {}, flags: [] }
  const env = Object.fromEntries(words.slice(0, node).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]))
  return { env, flags: words.slice(node + 1) }
}

export function cliNodeFlags (cli = CLI): string[] {
  return cliLaunch(cli).flags
}

/** A command and arguments for spawn that run `shoal <args>` as its `#!` line does, with this Node. */
export function cliCommand (args: string[], cli = CLI): [string, string[]] {
  const { env, flags } = cliLaunch(cli)
  return ['/usr/bin/env', [...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, ...flags, cli, ...args]]
}

export function assertBuilt (): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' first`)
}

export interface Running { child: ChildProcess; lines: string[]; stderr: () => string; exited: Promise<number | null>; kill: (sig?: NodeJS.Signals) => void }

/** `tracer`: a command the CLI runs under (as `strace -o out`), whose own output must not go to stdout. */
export function runCli (args: string[], opts: { onLine?: (line: string) => void; env?: NodeJS.ProcessEnv; tracer?: string[] } = {}): Running {
  assertBuilt()
  const [cmd, cmdArgs] = cliCommand(args)
  const argv = [...(opts.tracer ?? []), cmd, ...cmdArgs]
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(opts.env ?? {}) } })
  const lines: string[] = []
  let err = ''
  createInterface({ input: child.stdout! }).on('line', (l) => { lines.push(l); opts.onLine?.(l) })
  child.stderr!.on('data', (d) => { err += d })
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  return { child, lines, stderr: () => err, exited, kill: (sig = 'SIGTERM') => { if (child.exitCode === null && child.signalCode === null) child.kill(sig) } }
}

export async function runCliToEnd (args: string[], timeoutMs = 120000): Promise<{ code: number | null; stdout: string[]; stderr: string }> {
  const r = runCli(args)
  const timer = setTimeout(() => r.kill('SIGKILL'), timeoutMs)
  const code = await r.exited
  clearTimeout(timer)
  return { code, stdout: r.lines, stderr: r.stderr() }
}
