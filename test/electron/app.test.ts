// The real window, driven by Playwright's _electron: drop a file to share it, paste a magnet and
// watch it complete against a local seeder, quit, reopen and find both resumed. These need an
// Electron binary and a display; without them every test is reported SKIPPED with the reason
// (never passed). Binary detection never triggers the electron package's download.
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { join, resolve } from 'node:path'
import { existsSync } from 'node:fs'
import { findElectron, hasDisplay } from '../../scripts/electron-binary.mjs'
import { openTestEngine } from '../helpers/engines.ts'
import { randomFile, sha256File, tempDir, waitFor } from '../helpers/fixtures.ts'
import type { ElectronApplication, Page } from 'playwright-core'

// The page-side callbacks below run in the window; this file compiles without the DOM library,
// so these are the few browser globals they touch.
interface PageElement { type: string; id: string; style: { display: string }; files: ArrayLike<unknown> | null; remove(): void }
declare const document: { createElement(tag: string): PageElement; getElementById(id: string): PageElement | null; body: { append(e: PageElement): void; dispatchEvent(e: unknown): boolean } }
declare const DataTransfer: new () => { items: { add(file: unknown): void } }
declare const DragEvent: new (type: string, init: Record<string, unknown>) => unknown
declare const location: { href: string }
declare const window: { shoal?: { call(name: string, args: unknown): Promise<unknown> } & Record<string, unknown> }

const root = resolve(import.meta.dirname, '..', '..')
const electron = findElectron()
const display = hasDisplay()
const built = existsSync(join(root, 'dist/main/app/main.js')) && existsSync(join(root, 'dist/renderer/index.html'))
const skipReason = !electron.path ? `no Electron binary: ${electron.reason}`
  : !display.ok ? `Electron found but ${display.reason}; run under xvfb-run`
    : !built ? 'dist/ is not built (npm run build)' : null

interface Summary { infoHash: string; name: string; origin: string; state: string; progress: number }

async function launch (userData: string): Promise<{ app: ElectronApplication; page: Page }> {
  const { _electron } = await import('playwright-core')
  const app = await _electron.launch({
    executablePath: electron.path!,
    args: [root],
    env: { ...process.env, SHOAL_USER_DATA: userData } as Record<string, string>
  })
  const page = await app.firstWindow()
  await page.waitForFunction(() => typeof window.shoal === 'object')
  return { app, page }
}

const list = (page: Page) => page.evaluate(() => window.shoal!.call('torrents.list', {})) as Promise<Summary[]>

function skipped (t: TestContext): boolean {
  if (skipReason) { t.skip(skipReason); return true }
  return false
}

test('electron: the window is sandboxed and exposes only window.shoal', async (t) => {
  if (skipped(t)) return
  const dir = tempDir('shoal-electron-')
  const { app, page } = await launch(dir.path)
  try {
    const probe = await page.evaluate(() => ({
      require: typeof (globalThis as Record<string, unknown>).require,
      process: typeof (globalThis as Record<string, unknown>).process,
      shoal: Object.keys(window.shoal ?? {}).sort(),
      url: location.href
    }))
    assert.deepEqual(probe, { require: 'undefined', process: 'undefined', shoal: ['call', 'on', 'pathForFile'], url: 'app://shoal/index.html' })
    const prefs = await app.evaluate(({ BrowserWindow }) => {
      const wc = BrowserWindow.getAllWindows()[0]!.webContents
      return { sandboxed: (wc as unknown as { getLastWebPreferences(): Record<string, unknown> }).getLastWebPreferences() }
    })
    assert.equal(prefs.sandboxed.sandbox, true)
    assert.equal(prefs.sandboxed.contextIsolation, true)
    assert.equal(prefs.sandboxed.nodeIntegration, false)
  } finally { await app.close(); dir.cleanup() }
})

test('electron: drop a file to share it; paste a magnet, it completes from a local seeder; reopen and both are resumed', { timeout: 180_000 }, async (t) => {
  if (skipped(t)) return
  const dir = tempDir('shoal-electron-')
  const seeder = await openTestEngine({ dataDir: join(dir.path, 'seeder') })
  try {
    const seedFile = randomFile(join(dir.path, 'seed', 'from-seeder.bin'), 3_000_000)
    const seeded = await seeder.share([seedFile])
    const magnet = `${seeded.magnetURI}&x.pe=127.0.0.1:${seeder.listeningPort}`
    const dropFile = randomFile(join(dir.path, 'drop', 'dropped.bin'), 1_000_000)
    const userData = join(dir.path, 'app')
    const downloads = join(dir.path, 'downloads')

    let { app, page } = await launch(userData)
    try {
      await page.evaluate((dl) => window.shoal!.call('settings.update', { downloadPath: dl, dht: false, lsd: false, upnp: false }), downloads)

      // An OS drop carries File objects with real paths: a file input gives Playwright such Files.
      await page.evaluate(() => { const i = document.createElement('input'); i.type = 'file'; i.id = 'e2e-drop'; i.style.display = 'none'; document.body.append(i) })
      await page.setInputFiles('#e2e-drop', dropFile)
      await page.evaluate(() => {
        const input = document.getElementById('e2e-drop')!
        const dt = new DataTransfer()
        for (const f of Array.from(input.files ?? [])) dt.items.add(f)
        input.remove()
        for (const type of ['dragenter', 'dragover', 'drop']) document.body.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }))
      })
      await waitFor('the dropped file shared', async () => (await list(page)).find((x) => x.name === 'dropped.bin' && x.origin === 'shared' && x.state === 'seeding'), 30000)
      await page.getByText('dropped.bin').first().waitFor()

      await app.evaluate(({ clipboard }, m) => clipboard.writeText(m), magnet)
      await page.locator('body').click({ position: { x: 5, y: 5 } })
      await page.keyboard.press(process.platform === 'darwin' ? 'Meta+V' : 'Control+V')
      const done = await waitFor('the pasted magnet downloaded', async () => (await list(page)).find((x) => x.infoHash === seeded.infoHash && x.progress === 1), 90000)
      assert.equal(done.name, 'from-seeder.bin')
      await page.getByText('from-seeder.bin').first().waitFor()
      assert.equal(await sha256File(join(downloads, 'from-seeder.bin')), await sha256File(seedFile))
    } finally { await app.close() }

    ;({ app, page } = await launch(userData))
    try {
      const again = await waitFor('both torrents back', async () => {
        const l = await list(page)
        return l.length === 2 && l.every((x) => x.state === 'seeding') ? l : null
      }, 30000)
      assert.deepEqual(again.map((x) => x.name).sort(), ['dropped.bin', 'from-seeder.bin'])
    } finally { await app.close() }
  } finally { await seeder.close(); dir.cleanup() }
})
