// Runs the built CLI (dist/), as users run it. `npm test` builds first.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'

export const CLI = resolve(import.meta.dirname, '../../dist/main/cli/shoal.js')

/** The Node flags on the CLI's `#!` line: a process started as `node <flags> shoal.js` runs as the `shoal` command does. */
export function cliNodeFlags (cli = CLI): string[] {
  const first = readFileSync(cli, 'utf8').split('\n', 1)[0]!
  const m = /^#!\/usr\/bin\/env -S node(.*)$/.exec(first)
  return m ? m[1]!.trim().split(/\s+/).filter(Boolean) : []
}

export function assertBuilt (): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' first`)
}

export interface Running { child: ChildProcess; lines: string[]; stderr: () => string; exited: Promise<number | null>; kill: (sig?: NodeJS.Signals) => void }

export function runCli (args: string[], opts: { onLine?: (line: string) => void; env?: NodeJS.ProcessEnv } = {}): Running {
  assertBuilt()
  const child = spawn(process.execPath, [...cliNodeFlags(), CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(opts.env ?? {}) } })
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
