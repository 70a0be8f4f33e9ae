// The main path in a real browser against two real `shoal serve` instances: drop a file to share
// it, copy its magnet, paste it in a second instance, download to 100% and check the bytes on
// disk; pause and resume; remove with data and check the disk.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes, createHash } from 'node:crypto'
import type { Browser } from 'playwright-core'
import { tempDir, sha256File, waitFor } from '../helpers/fixtures.ts'
import { startServe, launchBrowser, type Served } from './harness.ts'
import { dropFiles, pasteText, row, waitForRow, type PageGlobals } from './page-helpers.ts'

let seeder: Served
let leecher: Served
let browser: Browser
const dirs = [tempDir('shoal-e2e-seed-'), tempDir('shoal-e2e-leech-')]

before(async () => {
  [seeder, leecher] = await Promise.all([startServe(dirs[0]!.path), startServe(dirs[1]!.path)])
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
  await Promise.all([seeder?.stop(), leecher?.stop()])
  for (const d of dirs) d.cleanup()
})

test('drop a file, copy its magnet, download it in a second instance, pause, resume, remove with data', async () => {
  const name = 'holiday-video.bin'
  const bytes = randomBytes(3 * 1024 * 1024 + 12345)
  const sha = createHash('sha256').update(bytes).digest('hex')

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: seeder.origin })
  const a = await context.newPage()
  await a.goto(seeder.url)
  await a.getByText('Nothing here yet').waitFor()
  assert.equal(new URL(a.url()).searchParams.get('token'), null, 'the token leaves the address bar')

  // Drop: uploaded into the seeder's download folder, hashed, shared.
  await dropFiles(a, [{ name, bytes }])
  const magnetBox = a.getByLabel('Magnet link', { exact: true })
  await magnetBox.waitFor({ timeout: 30000 })
  const magnet = await magnetBox.inputValue()
  assert.match(magnet, /^magnet:\?xt=urn:btih:[0-9a-f]{40}/)
  assert.equal(await sha256File(join(seeder.downloads, name)), sha, 'the upload is the dropped file, byte for byte')
  await a.locator('.job').getByRole('button', { name: 'Copy magnet' }).click()
  assert.equal(await a.evaluate(() => (globalThis as unknown as PageGlobals).navigator.clipboard.readText()), magnet)
  await waitForRow(a, name, 'Seeding', '100%')

  // Paste in the second instance, with the seeder's loopback address as the magnet's peer hint.
  const b = await context.newPage()
  await b.goto(leecher.url)
  await b.getByText('Nothing here yet').waitFor()
  await pasteText(b, `${magnet}&x.pe=127.0.0.1:${seeder.peerPort}`)
  await waitForRow(b, name, 'Seeding', '100%', 90000)
  const downloaded = join(leecher.downloads, name)
  assert.equal(await sha256File(downloaded), sha, 'the downloaded file hashes to the original')

  // Pause and resume from the selection toolbar.
  await row(b, name).click()
  await b.getByRole('button', { name: 'Pause', exact: true }).click()
  await waitForRow(b, name, 'Finished')
  await b.getByRole('button', { name: 'Resume', exact: true }).click()
  await waitForRow(b, name, 'Seeding')

  // Remove with data, by keyboard: Delete on the focused list, tick the box, confirm.
  await b.getByRole('grid').focus()
  await b.keyboard.press('Delete')
  const dialog = b.getByRole('dialog')
  await dialog.waitFor()
  await dialog.getByLabel('Also delete the downloaded files').check()
  await dialog.getByRole('button', { name: 'Remove with data' }).click()
  await b.getByText('Nothing here yet').waitFor()
  await waitFor('the downloaded file to be deleted', () => !existsSync(downloaded), 15000)
  assert.ok(existsSync(join(seeder.downloads, name)), 'the seeder still has its copy')
  await context.close()
})
