#!/usr/bin/env node
// `npm start`: the desktop app when an Electron runtime and a display exist; otherwise the same
// engine and UI headless (`shoal serve`) in the browser, saying why. Builds first if dist/ is missing.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve, dirname } from 'node:path'
import { createInterface } from 'node:readline'
import { findElectron, hasDisplay } from './electron-binary.mjs'

const root = resolve(dirname(new URL(import.meta.url).pathname), '..')
process.chdir(root)

const needed = ['dist/main/app/main.js', 'dist/main/cli/shoal.js', 'dist/preload/preload.cjs', 'dist/renderer/index.html']
if (!needed.every((f) => existsSync(f))) {
  console.log('start: building first (dist/ is incomplete)')
  const r = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}

function relay (child) {
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
}

// A 4 MiB young generation: transfers make short-lived Buffers in bursts, and V8 frees their
// memory only when it collects the young generation (README, Performance).
const JS_FLAGS = '--js-flags=--max-semi-space-size=1'
const electron = findElectron()
const display = hasDisplay()
if (electron.path && display.ok) {
  // The main process's V8 flags can only be given on the command line (see electron-builder.yml).
  relay(spawn(electron.path, [JS_FLAGS, '.', ...process.argv.slice(2)], { stdio: 'inherit' }))
} else {
  const why = !electron.path ? electron.reason : display.reason
  console.log(`Starting Shoal in your browser instead of its window: ${why}.`)
  const cli = join('dist', 'main', 'cli', 'shoal.js')
  // Run it as the `shoal` command runs: with the environment and Node flags of its
  // `#!/usr/bin/env -S [NAME=value...] node [flags...]` line.
  const words = (/^#!\/usr\/bin\/env -S (.*)$/.exec(readFileSync(cli, 'utf8').split('\n', 1)[0])?.[1] ?? 'node').trim().split(/\s+/)
  const node = words.indexOf('node')
  const env = Object.fromEntries(words.slice(0, node).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]))
  const server = spawn(process.execPath, [...words.slice(node + 1), cli, 'serve', ...process.argv.slice(2)], { stdio: ['inherit', 'pipe', 'inherit'], env: { ...process.env, ...env } })
  relay(server)
  let opened = false
  createInterface({ input: server.stdout }).on('line', (line) => {
    console.log(line)
    const url = /^Shoal is running at (https?:\/\/\S+)/.exec(line)?.[1]
    if (opened || !url) return
    opened = true
    console.log(`Open ${url}`)
    if (display.ok && process.platform === 'linux') {
      const opener = spawn('xdg-open', [url], { stdio: 'ignore', detached: true })
      opener.on('error', () => console.log('(xdg-open is not available: open the address above yourself)'))
      opener.unref()
    } else if (process.platform === 'darwin' || process.platform === 'win32') {
      const opener = process.platform === 'darwin' ? spawn('open', [url], { stdio: 'ignore', detached: true }) : spawn('cmd', ['/c', 'start', '', url], { stdio: 'ignore', detached: true })
      opener.on('error', () => {})
      opener.unref()
    }
  })
}
