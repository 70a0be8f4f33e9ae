#!/usr/bin/env node
// Builds dist/: main (tsc, plain ESM), the CLI (one esbuild bundle), preload (one sandbox-safe CommonJS bundle), renderer (Vite).
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, rmSync } from 'node:fs'
import { resolve, dirname } from 'node:path'
import { bundleCli } from './bundle-cli.mjs'

const root = resolve(dirname(new URL(import.meta.url).pathname), '..')
process.chdir(root)
const bin = (name) => resolve(root, 'node_modules', '.bin', name)
function run (cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' })
  if (r.status !== 0) { console.error(`build: ${cmd} ${args.join(' ')} failed`); process.exit(r.status ?? 1) }
}

rmSync('dist', { recursive: true, force: true })
run(bin('tsc'), ['-p', 'tsconfig.build.json'])
// The `shoal` command is one bundle (README, Performance): tsc's per-file output of the CLI is replaced.
try { await bundleCli(root) } catch (err) { console.error(`build: ${err.message}`); process.exit(1) }
chmodSync('dist/main/cli/shoal.js', 0o755)
if (existsSync('preload/preload.ts')) {
  // A sandboxed preload cannot import ES modules or node_modules at run time: bundle it.
  run(bin('esbuild'), ['preload/preload.ts', '--bundle', '--platform=node', '--format=cjs', '--target=node22',
    '--external:electron', '--outfile=dist/preload/preload.cjs', '--log-level=warning'])
}
if (existsSync('renderer/index.html')) run(bin('vite'), ['build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'])
console.log('build: dist/ ready')
