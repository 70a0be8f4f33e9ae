// The `shoal` command as one esbuild bundle in dist/main/cli/, instead of tsc's file per module.
// Loading some 400 ES modules one by one (zod alone is 95 files) left an idle `shoal seed` about
// 13 MiB bigger and `shoal create` 20 ms slower to start (README, Performance). The Electron main
// process keeps tsc's output: it cannot be run here to check a bundle of it.
import { readFileSync, existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import * as esbuild from 'esbuild'

// Native addons find their binaries next to their own package at run time: they stay in
// node_modules and are required from there (the same list electron-builder unpacks from the asar).
export const NATIVE_PACKAGES = ['utp-native', 'node-datachannel', 'bufferutil', 'utf-8-validate', 'fs-native-extensions']

/** The package a bundled input belongs to, if it is in node_modules ('@scope/name' or 'name'). */
function packageOf (input) {
  const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)
  return m ? m[1] : null
}

/** A package that ships a compiled addon, which a bundle would cut off from its binary. */
function isNative (root, pkg) {
  const dir = join(root, 'node_modules', pkg)
  return existsSync(join(dir, 'binding.gyp')) || existsSync(join(dir, 'prebuilds'))
}

export async function bundleCli (root) {
  const outdir = join(root, 'dist', 'main', 'cli')
  rmSync(outdir, { recursive: true, force: true })
  const result = await esbuild.build({
    absWorkingDir: root,
    // The hash worker is its own entry beside the chunks: hash-helpers starts it from
    // new URL('./hash-worker.js', import.meta.url), and import.meta.url is the chunk's.
    entryPoints: { shoal: 'main/cli/shoal.ts', 'hash-worker': 'main/engine/hash-worker.ts' },
    outdir,
    bundle: true,
    // The commands and what the engine loads only when used (WebRTC, tracker server) stay in
    // chunks of their own, loaded by their dynamic import.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    // Whitespace only: names stay readable in stack traces (3-4 MiB less RSS than unminified).
    minifyWhitespace: true,
    sourcemap: 'linked',
    external: NATIVE_PACKAGES,
    // Bundled CommonJS packages call require() for Node's built-ins and the native addons.
    banner: { js: "import { createRequire as __shoalCreateRequire } from 'node:module'; const require = __shoalCreateRequire(import.meta.url);" },
    metafile: true,
    logLevel: 'warning'
  })
  const bundledNative = [...new Set(Object.keys(result.metafile.inputs).map(packageOf).filter((p) => p && isNative(root, p)))]
  if (bundledNative.length) throw new Error(`the CLI bundle took in native addons (add them to NATIVE_PACKAGES): ${bundledNative.join(', ')}`)
  const first = readFileSync(join(outdir, 'shoal.js'), 'utf8').split('\n', 1)[0]
  if (!first.startsWith('#!')) throw new Error('the CLI bundle lost its #! line')
}
