// Screenshots of every view in both themes from a realistic session (shares, finished and running
// downloads, a paused one, one waiting for peers). They are written to .tmp/screenshots; with
// SHOAL_UPDATE_SCREENSHOTS=1 they become the references in test/screenshots/ and the README's
// assets/screenshot.png. Otherwise each fresh rendering is compared with its reference, pixel by
// pixel in the browser, with room for live numbers (speeds, dates) but not for a changed layout.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { tempDir, randomFile, waitFor } from '../helpers/fixtures.ts'
import { startServe, launchBrowser, WsApi, type Served } from './harness.ts'

const ROOT = resolve(import.meta.dirname, '..', '..')
const REFS = join(ROOT, 'test', 'screenshots')
const OUT = join(ROOT, '.tmp', 'screenshots')
const README_SHOT = join(ROOT, 'assets', 'screenshot.png')
const UPDATE = process.env.SHOAL_UPDATE_SCREENSHOTS === '1'
const VIEWS = ['transfers', 'library', 'peers', 'network', 'settings'] as const
/** Share of pixels allowed to differ: live numbers and dates, never a moved panel. */
const TOLERANCE = 0.04

let seeder: Served
let leecher: Served
let seedApi: WsApi
let leechApi: WsApi
let browser: Browser
const dirs = [tempDir('shoal-shot-seed-'), tempDir('shoal-shot-leech-'), tempDir('shoal-shot-files-')]

before(async () => {
  [seeder, leecher] = await Promise.all([startServe(dirs[0]!.path), startServe(dirs[1]!.path)])
  ;[seedApi, leechApi] = await Promise.all([WsApi.open(seeder), WsApi.open(leecher)])
  browser = await launchBrowser()
  mkdirSync(OUT, { recursive: true })
})

after(async () => {
  seedApi?.close()
  leechApi?.close()
  await browser?.close()
  await Promise.all([seeder?.stop(), leecher?.stop()])
  for (const d of dirs) d.cleanup()
})

async function session (): Promise<void> {
  const files = dirs[2]!.path
  const items = [
    randomFile(join(files, 'Project report 2025.pdf'), 2_400_000),
    (randomFile(join(files, 'Field recordings', '01 Harbour at dawn.flac'), 1_800_000), randomFile(join(files, 'Field recordings', '02 Gulls.flac'), 1_300_000), join(files, 'Field recordings')),
    randomFile(join(files, 'Sintel (2010) 1080p.mkv'), 48_000_000)
  ]
  const shared = []
  for (const p of items) shared.push(await seedApi.call<{ infoHash: string; magnetURI: string }>('torrent.share', { paths: [p] }))
  const hint = `&x.pe=127.0.0.1:${seeder.peerPort}`
  await leechApi.call('torrent.add', { source: { kind: 'uri', uri: shared[0]!.magnetURI + hint } })
  await leechApi.call('torrent.add', { source: { kind: 'uri', uri: shared[1]!.magnetURI + hint } })
  await waitFor('two finished downloads', async () => (await leechApi.call<Array<{ progress: number }>>('torrents.list')).filter((t) => t.progress >= 1).length === 2, 60000, 250)
  // The film trickles in, so it is mid-way with live speeds when the pictures are taken.
  await seedApi.call('settings.update', { maxUploadSpeed: 350 * 1024 })
  await leechApi.call('torrent.add', { source: { kind: 'uri', uri: shared[2]!.magnetURI + hint } })
  await leechApi.call('torrent.add', { source: { kind: 'uri', uri: 'magnet:?xt=urn:btih:5b1f4e0d7c3a29e8b6d4f2a1c0e9d8b7a6f5e4d3&dn=Debian%2013%20netinst.iso' }, paused: true })
  await leechApi.call('torrent.add', { source: { kind: 'uri', uri: 'magnet:?xt=urn:btih:a1b2c3d4e5f60718293a4b5c6d7e8f9012345678&dn=Public%20domain%20audiobooks' } })
  await waitFor('the film under way', async () => {
    const t = (await leechApi.call<Array<{ name: string; progress: number; downloadSpeed: number }>>('torrents.list')).find((x) => x.name.startsWith('Sintel'))
    return t && t.progress > 0.08 && t.downloadSpeed > 0
  }, 60000, 250)
}

async function show (page: Page, view: typeof VIEWS[number]): Promise<void> {
  await page.locator(`#nav-${view}`).click()
  if (view === 'transfers') {
    await page.locator('.transfer-row', { hasText: 'Sintel' }).click()
    await page.getByRole('tab', { name: 'Speed' }).click()
    await page.waitForTimeout(6000) // a few seconds of the speed graph
  } else if (view === 'peers') {
    await page.locator('.peer-table .table-row').first().waitFor()
  } else {
    await page.waitForTimeout(400)
  }
}

/** Fraction of pixels that differ noticeably between two PNGs, decoded by the browser. */
async function difference (page: Page, a: string, b: string): Promise<number> {
  return page.evaluate(async ([a64, b64]) => {
    const w = globalThis as unknown as { createImageBitmap(b: Blob): Promise<{ width: number; height: number }>; OffscreenCanvas: new (w: number, h: number) => { getContext(k: '2d'): { drawImage(i: unknown, x: number, y: number): void; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } } }
    const load = async (s: string) => w.createImageBitmap(new Blob([Uint8Array.from(atob(s), (c) => c.charCodeAt(0))], { type: 'image/png' }))
    const [ia, ib] = await Promise.all([load(a64), load(b64)])
    if (ia.width !== ib.width || ia.height !== ib.height) return 1
    const px = (img: unknown) => { const c = new w.OffscreenCanvas(ia.width, ia.height).getContext('2d'); c.drawImage(img, 0, 0); return c.getImageData(0, 0, ia.width, ia.height).data }
    const da = px(ia)
    const db = px(ib)
    let diff = 0
    for (let i = 0; i < da.length; i += 4) {
      if (Math.abs(da[i]! - db[i]!) + Math.abs(da[i + 1]! - db[i + 1]!) + Math.abs(da[i + 2]! - db[i + 2]!) > 48) diff++
    }
    return diff / (da.length / 4)
  }, [readFileSync(a).toString('base64'), readFileSync(b).toString('base64')] as const)
}

test('every view in both themes matches its reference; the README screenshot is the current Transfers view', async () => {
  await session()
  const shots: string[] = []
  for (const theme of ['light', 'dark'] as const) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: theme })
    await page.goto(leecher.url)
    await page.locator('.transfer-row').first().waitFor()
    for (const view of VIEWS) {
      await show(page, view)
      const file = `${view}-${theme}.png`
      await page.screenshot({ path: join(OUT, file) })
      shots.push(file)
    }
    await page.close()
  }
  if (UPDATE) {
    mkdirSync(REFS, { recursive: true })
    for (const f of shots) copyFileSync(join(OUT, f), join(REFS, f))
    copyFileSync(join(OUT, 'transfers-light.png'), README_SHOT)
  }
  const page = await browser.newPage()
  const failures: string[] = []
  for (const f of shots) {
    assert.ok(existsSync(join(REFS, f)), `no reference for ${f}: run with SHOAL_UPDATE_SCREENSHOTS=1 and look at them`)
    const d = await difference(page, join(OUT, f), join(REFS, f))
    if (d > TOLERANCE) failures.push(`${f}: ${(d * 100).toFixed(1)}% of pixels differ (see .tmp/screenshots/${f})`)
  }
  const readmeDiff = await difference(page, join(OUT, 'transfers-light.png'), README_SHOT)
  if (readmeDiff > TOLERANCE) failures.push(`assets/screenshot.png is not the current Transfers view (${(readmeDiff * 100).toFixed(1)}% differ)`)
  await page.close()
  assert.match(readFileSync(join(ROOT, 'README.md'), 'utf8'), /!\[[^\]]*\]\(assets\/screenshot\.png\)/, 'the README shows assets/screenshot.png')
  assert.deepEqual(failures, [])
})
