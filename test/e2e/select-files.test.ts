// A multi-file torrent added from its .torrent file in the browser, with only one file left
// checked before any peer shows up: only that file is downloaded (hash checked on disk).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { tempDir, randomFile, sha256File, waitFor } from '../helpers/fixtures.ts'
import { startTracker } from '../helpers/swarm.ts'
import { startServe, launchBrowser, WsApi, type Served } from './harness.ts'
import { waitForRow } from './page-helpers.ts'

let seeder: Served
let leecher: Served
let seederApi: WsApi
let browser: Browser
let tracker: Awaited<ReturnType<typeof startTracker>>
const dirs = [tempDir('shoal-e2e-mseed-'), tempDir('shoal-e2e-mleech-'), tempDir('shoal-e2e-mfiles-')]

before(async () => {
  tracker = await startTracker()
  ;[seeder, leecher] = await Promise.all([startServe(dirs[0]!.path), startServe(dirs[1]!.path)])
  seederApi = await WsApi.open(seeder)
  browser = await launchBrowser()
})

after(async () => {
  seederApi?.close()
  await browser?.close()
  await Promise.all([seeder?.stop(), leecher?.stop()])
  await tracker?.close()
  for (const d of dirs) d.cleanup()
})

test('select only some files of a multi-file torrent', async () => {
  const album = join(dirs[2]!.path, 'album')
  const wanted = randomFile(join(album, 'a-wanted.bin'), 700_000)
  randomFile(join(album, 'b-skipped.bin'), 1_500_000)
  randomFile(join(album, 'c-skipped.bin'), 1_500_000)
  const shared = await seederApi.call<{ infoHash: string }>('torrent.share', { paths: [album], options: { announce: [tracker.announce] } })
  // The seeder stays away until the selection is made, so nothing arrives early.
  await seederApi.call('torrent.pause', { infoHashes: [shared.infoHash] })
  const exported = await seederApi.call<{ base64: string }>('torrent.exportTorrent', { infoHash: shared.infoHash })
  const torrentPath = join(dirs[2]!.path, 'album.torrent')
  writeFileSync(torrentPath, Buffer.from(exported.base64, 'base64'))

  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } })
  await page.goto(leecher.url)
  await page.getByText('Nothing here yet').waitFor()
  await page.locator('input[type=file][accept^=".torrent"]').setInputFiles(torrentPath)
  await waitForRow(page, 'album', 'Downloading', '0.0%')
  await page.locator('.transfer-row', { hasText: 'album' }).click()
  const files = page.getByRole('tabpanel')
  for (const name of ['album/b-skipped.bin', 'album/c-skipped.bin']) await files.getByRole('checkbox', { name, exact: true }).uncheck()
  await page.waitForFunction(() => {
    const boxes = [...(globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<{ checked: boolean; ariaLabel: string | null }> } })
      .document.querySelectorAll('.file-row input[type=checkbox]')]
    return boxes.length === 3 && boxes.filter((b) => b.checked).length === 1
  }, undefined, { timeout: 10000 })

  await seederApi.call('torrent.resume', { infoHashes: [shared.infoHash] })
  const got = join(leecher.downloads, 'album', 'a-wanted.bin')
  const sha = await sha256File(wanted)
  await waitFor('the wanted file to arrive whole', async () => existsSync(got) && (await sha256File(got)) === sha, 90000, 500)
  await waitForRow(page, 'album', '100%', undefined, 30000)

  // The skipped files never arrive whole (a piece shared with the wanted file may touch one).
  for (const name of ['b-skipped.bin', 'c-skipped.bin']) {
    const p = join(leecher.downloads, 'album', name)
    const other = await sha256File(join(album, name))
    assert.ok(!existsSync(p) || (await sha256File(p)) !== other, `${name} was not downloaded`)
  }
  const skippedRow = page.locator('.file-row', { hasText: 'b-skipped.bin' })
  assert.doesNotMatch(await skippedRow.innerText(), /100%/)
  await page.close()
})
