#!/usr/bin/env node
// Builds dist/: main (tsc, plain ESM), preload (one sandbox-safe CommonJS bundle), renderer (Vite).
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, rmSync } from 'node:fs'
import { resolve, dirname } from 'node:path'

const root = resolve(dirname(new URL(import.meta.url).pathname), '..')
process.chdir(root)
const bin = (name) => resolve(root, 'node_modules', '.bin', name)
function run (cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' })
  if (r.status !== 0) { console.error(`build: ${cmd} ${args.join(' ')} failed`); process.exit(r.status ?? 1) }
}

rmSync('dist', { recursive: true, force: true })
run(bin('tsc'), ['-p', 'tsconfig.build.json'])
if (existsSync('dist/main/cli/shoal.js')) chmodSync('dist/main/cli/shoal.js', 0o755)
if (existsSync('preload/preload.ts')) {
  // A sandboxed preload cannot import ES modules or node_modules at run time: bundle it.
  run(bin('esbuild'), ['preload/preload.ts', '--bundle', '--platform=node', '--format=cjs', '--target=node22',
    '--external:electron', '--outfile=dist/preload/preload.cjs', '--log-level=warning'])
}
if (existsSync('renderer/index.html')) run(bin('vite'), ['build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'])
console.log('build: dist/ ready')
