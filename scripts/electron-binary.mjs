// Finds an installed Electron binary without triggering the electron package's download
// (from electron 42 on, `require('electron')` downloads when the binary is missing).
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve, dirname } from 'node:path'

const root = resolve(dirname(new URL(import.meta.url).pathname), '..')

/** @returns {{ path: string | null, reason: string }} */
export function findElectron () {
  const pkg = join(root, 'node_modules', 'electron')
  const pathFile = join(pkg, 'path.txt')
  const executable = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : (process.platform === 'win32' ? 'electron.exe' : 'electron')
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH
  if (override) {
    const p = join(override, executable)
    return existsSync(p) ? { path: p, reason: `ELECTRON_OVERRIDE_DIST_PATH (${p})` } : { path: null, reason: `ELECTRON_OVERRIDE_DIST_PATH is set but ${p} does not exist` }
  }
  if (!existsSync(pkg)) return { path: null, reason: 'the electron package is not installed' }
  if (!existsSync(pathFile)) return { path: null, reason: 'no Electron runtime: the electron package was installed without its binary (ELECTRON_SKIP_BINARY_DOWNLOAD, or no access to GitHub)' }
  const p = join(pkg, 'dist', executable)
  return existsSync(p) ? { path: p, reason: p } : { path: null, reason: `no Electron runtime: ${p} is missing` }
}

/** Whether a window can be shown: always on macOS and Windows; on Linux, an X11 or Wayland display. */
export function hasDisplay () {
  if (process.platform === 'darwin' || process.platform === 'win32') return { ok: true, reason: process.platform }
  if (process.env.DISPLAY || process.env.WAYLAND_DISPLAY) return { ok: true, reason: process.env.WAYLAND_DISPLAY ? `Wayland ${process.env.WAYLAND_DISPLAY}` : `X11 ${process.env.DISPLAY}` }
  return { ok: false, reason: 'no display (neither DISPLAY nor WAYLAND_DISPLAY is set)' }
}
