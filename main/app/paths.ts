// Where the built pieces are, relative to this file in dist/main/app (inside app.asar when packaged).
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const here = dirname(fileURLToPath(import.meta.url))
/** The app's root: the folder holding package.json (or app.asar). */
export const APP_ROOT = join(here, '..', '..', '..')
export const RENDERER_DIR = join(APP_ROOT, 'dist', 'renderer')
export const PRELOAD_PATH = join(APP_ROOT, 'dist', 'preload', 'preload.cjs')
export const ICON_PATH = join(APP_ROOT, 'assets', 'icon.png')
export const TRAY_ICON_PATH = join(APP_ROOT, 'assets', 'tray.png')
