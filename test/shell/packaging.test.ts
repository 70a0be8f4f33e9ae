// Packages the app with electron-builder (--linux dir, offline) against a stand-in Electron dist,
// then checks what the installers would contain: main, preload, renderer and icons in app.asar,
// the production dependencies and no dev-only ones, and native addons unpacked from the asar.
// The stand-in is a placeholder `electron` executable: for a Linux dir target electron-builder
// only copies the dist folder and renames that file to the app's executable name.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import asar from '@electron/asar'
import { tempDir } from '../helpers/fixtures.ts'
import { cliNodeFlags } from '../helpers/cli.ts'

const root = resolve(import.meta.dirname, '..', '..')
const NATIVE = ['utp-native', 'node-datachannel', 'bufferutil', 'utf-8-validate', 'fs-native-extensions']
const BUILT = ['dist/main/app/main.js', 'dist/preload/preload.cjs', 'dist/renderer/index.html']

function ensureBuilt (): void {
  if (BUILT.every((f) => existsSync(join(root, f)))) return
  const r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' })
  assert.equal(r.status, 0, 'npm run build failed')
}

/** A private copy of the project (node_modules hard-linked): other builds may rewrite dist/ meanwhile. */
function stage (dir: string): string {
  const project = join(dir, 'project')
  mkdirSync(project)
  for (const f of ['package.json', 'package-lock.json', 'electron-builder.yml']) cpSync(join(root, f), join(project, f))
  for (const d of ['assets', 'dist']) cpSync(join(root, d), join(project, d), { recursive: true })
  const linked = spawnSync('cp', ['-al', join(root, 'node_modules'), join(project, 'node_modules')])
  // electron-builder does not follow a symlinked node_modules; without hard links, package the repo itself.
  return linked.status === 0 ? project : root
}

function filesUnder (dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile())
}

test('electron-builder --dir packages main, preload, renderer and production dependencies, natives unpacked', { timeout: 300_000 }, (t) => {
  ensureBuilt()
  const tmp = tempDir('shoal-pack-')
  try {
    const electronDist = join(tmp.path, 'electron-dist')
    mkdirSync(electronDist)
    writeFileSync(join(electronDist, 'electron'), '#!/bin/sh\necho "placeholder for the Electron binary"\n')
    chmodSync(join(electronDist, 'electron'), 0o755)
    const project = stage(tmp.path)
    const out = join(tmp.path, 'out')
    const r = spawnSync(join(root, 'node_modules', '.bin', 'electron-builder'), [
      '--linux', 'dir', '--projectDir', project,
      `-c.electronDist=${electronDist}`, '-c.electronVersion=45.4.1', `-c.directories.output=${out}`
    ], { cwd: project, encoding: 'utf8', env: { ...process.env, CI: '1' } })
    assert.equal(r.status, 0, `electron-builder failed:\n${r.stdout}\n${r.stderr}`)

    const app = join(out, 'linux-unpacked')
    assert.ok(existsSync(join(app, 'shoal')), 'the executable is named shoal')
    const archive = join(app, 'resources', 'app.asar')
    const listed = asar.listPackage(archive, { isPack: false }).map((p) => p.replace(/\\/g, '/'))
    const has = (p: string) => listed.includes(p)
    for (const f of ['/package.json', ...BUILT.map((b) => `/${b}`), '/assets/icon.png', '/assets/tray.png']) assert.ok(has(f), `${f} packaged`)
    const pkg = JSON.parse(asar.extractFile(archive, 'package.json').toString()) as { main: string; dependencies: Record<string, string> }
    assert.equal(pkg.main, 'dist/main/app/main.js')
    assert.ok(has(`/${pkg.main}`))

    // No sources, tests, maps or build tooling of our own.
    const ours = listed.filter((p) => !p.startsWith('/node_modules/'))
    assert.deepEqual(ours.filter((p) => /^\/(main|preload|renderer|test|scripts|types|patches)\//.test(p) || /\.(ts|map)$/.test(p)), [])

    // Production dependencies in, dev-only packages (package-lock "dev": true) out.
    const topLevel = new Set(listed.filter((p) => /^\/node_modules\/(@[^/]+\/)?[^/@]+\/package\.json$/.test(p)).map((p) => p.slice('/node_modules/'.length, -'/package.json'.length)))
    for (const dep of Object.keys(pkg.dependencies)) assert.ok(topLevel.has(dep), `dependency ${dep} packaged`)
    // Names alone do not say it: electron-builder hoists a production copy (e.g. conf's ajv 8) to where
    // the repo has a dev tool's copy (eslint's ajv 6). Each packaged name@version must be a non-dev lock entry.
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; version?: string }> }
    const production = new Set(Object.entries(lock.packages).filter(([p, v]) => p.includes('node_modules/') && !v.dev)
      .map(([p, v]) => `${p.slice(p.lastIndexOf('node_modules/') + 'node_modules/'.length)}@${v.version}`))
    const devOnly = [...topLevel].map((name) => {
      const { version } = JSON.parse(asar.extractFile(archive, `node_modules/${name}/package.json`).toString()) as { version: string }
      return `${name}@${version}`
    }).filter((id) => !production.has(id))
    assert.deepEqual(devOnly, [], 'packages that only dev dependencies need')
    for (const d of ['electron', 'electron-builder', 'vite', 'svelte', 'typescript', 'esbuild', 'eslint', 'playwright-core', '@electron/asar']) {
      assert.ok(!topLevel.has(d), `${d} must not be packaged`)
    }

    // Every native addon is a real file in app.asar.unpacked.
    const unpacked = join(app, 'resources', 'app.asar.unpacked')
    const nodeFiles = listed.filter((p) => p.endsWith('.node'))
    assert.ok(nodeFiles.length > 0)
    for (const f of nodeFiles) assert.ok(existsSync(join(unpacked, f)), `${f} unpacked`)
    for (const m of NATIVE) {
      const files = filesUnder(join(unpacked, 'node_modules', m)).concat(filesUnder(join(unpacked, 'node_modules', '@node-datachannel')).filter(() => m === 'node-datachannel'))
      assert.ok(files.some((f) => f.endsWith('.node')), `${m}: a native binary is unpacked`)
    }
    // utp-native's binary is the build of Shoal's patched libutp (scripts/build-utp.mjs), without its object files
    assert.ok(nodeFiles.includes('/node_modules/utp-native/build/Release/utp_native.node'), 'the patched libutp build is packaged')
    assert.deepEqual(listed.filter((p) => p.includes('/utp-native/build/Release/obj.target/')), [])
    assert.ok(existsSync(join(unpacked, 'dist', 'main', 'engine', 'hash-worker.js')), 'the hash worker is a real file')
    assert.ok(existsSync(join(unpacked, 'dist', 'main', 'engine', 'piece-run.js')), 'the module the hash worker imports is a real file too')
    t.diagnostic(`app.asar: ${listed.length} entries, ${topLevel.size} top-level packages, ${nodeFiles.length} native binaries unpacked`)
  } finally { tmp.cleanup() }
})

// The CLI gets its V8 flags from its #! line; Electron's main process only from its command line
// (the installers' desktop entry, and scripts/start.mjs in a checkout). They must not drift apart.
test('the installed app and npm start give the main process the same V8 flags as the shoal CLI', () => {
  const v8Flags = cliNodeFlags(join(root, 'main/cli/shoal.ts')).filter((f) => f.startsWith('--max-'))
  assert.ok(v8Flags.length > 0, 'no V8 flags on the CLI\'s #! line')
  const jsFlags = `--js-flags=${v8Flags.join(' ')}`
  assert.match(readFileSync(join(root, 'electron-builder.yml'), 'utf8'), new RegExp(`executableArgs: \\["${jsFlags}"\\]`))
  assert.ok(readFileSync(join(root, 'scripts/start.mjs'), 'utf8').includes(`'${jsFlags}'`), 'scripts/start.mjs starts Electron without them')
})
