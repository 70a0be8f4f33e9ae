#!/usr/bin/env node
// postinstall, after patch-package: compile utp-native from its patched libutp sources
// (patches/utp-native+2.5.3.patch: faster loss recovery, README "uTP"). utp-native loads
// build/Release before its stock prebuilt binary (node-gyp-build), so a successful build is what
// Shoal runs; the addon is N-API, so the same file serves Node and Electron.
//
// Nothing is downloaded: Node's headers come from npm_config_nodedir or the running Node's own
// install (include/node). Without headers or a compiler the stock prebuild stays, uTP works with
// libutp's slower recovery, and this says so instead of failing the install.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'

const root = resolve(dirname(new URL(import.meta.url).pathname), '..')
const require = createRequire(join(root, 'node_modules', 'webtorrent', 'package.json'))

function keepStock (why) {
  console.warn(`shoal: utp-native keeps its stock prebuilt libutp (${why}); uTP works but recovers from packet loss slowly`)
  process.exit(0)
}

let utpDir
try { utpDir = dirname(require.resolve('utp-native/package.json')) } catch { keepStock('utp-native is not installed') }

const hasHeaders = (dir) => existsSync(join(dir, 'include', 'node', 'node_api.h'))
const nodedir = [process.env.npm_config_nodedir, resolve(process.execPath, '..', '..')].find((d) => d && hasHeaders(d))
if (!nodedir) keepStock(`no Node headers: set npm_config_nodedir, or use a Node install with include/node (${process.execPath})`)

const localGyp = join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
const nodeGyp = [process.env.npm_config_node_gyp, localGyp].find((p) => p && existsSync(p))
if (!nodeGyp) keepStock('node-gyp not found')

const t0 = Date.now()
const r = spawnSync(process.execPath, [nodeGyp, 'rebuild', `--nodedir=${nodedir}`], { cwd: utpDir, encoding: 'utf8' })
if (r.status !== 0) {
  console.warn(`${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n'))
  keepStock(`node-gyp rebuild failed with ${r.status ?? r.signal}`)
}
console.log(`shoal: built utp-native with Shoal's libutp patch in ${((Date.now() - t0) / 1000).toFixed(1)} s (${join(utpDir, 'build', 'Release')})`)
