// Restarts: nothing verified is lost, nothing unchanged is read again, only changed files are re-hashed.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { openSync, writeSync, closeSync, statSync, utimesSync, readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tempDir, randomFile, sha256File, waitFor } from '../helpers/fixtures.ts'
import { openTestEngine } from '../helpers/engines.ts'
import { runCli } from '../helpers/cli.ts'

const MiB = 1024 * 1024

/** Overwrites bytes at `offset` but keeps size and modification time: invisible without reading. */
function overwriteKeepingStamp (path: string, offset: number, length: number): void {
  const st = statSync(path)
  const fd = openSync(path, 'r+')
  writeSync(fd, randomBytes(length), 0, length, offset)
  closeSync(fd)
  utimesSync(path, st.atimeMs / 1000, st.mtimeMs / 1000)
}

test('a clean restart trusts unchanged files without reading them, and re-hashes only changed files', async () => {
  const d = tempDir()
  try {
    const a = randomFile(join(d.path, 'share', 'album', 'a.bin'), 4 * MiB)
    const b = randomFile(join(d.path, 'share', 'album', 'b.bin'), 4 * MiB)
    let engine = await openTestEngine({ dataDir: join(d.path, 'data') })
    const { infoHash } = await engine.share([join(d.path, 'share', 'album')], { pieceLength: 256 * 1024 })
    assert.equal(engine.list()[0]!.progress, 1)
    await engine.close()

    // a.bin: new bytes, same size and mtime. Only a restart that reads a.bin could notice.
    overwriteKeepingStamp(a, 0, 64 * 1024)
    // b.bin: new bytes and a new mtime. A restart must re-hash b.bin and find its first piece bad.
    const fd = openSync(b, 'r+'); writeSync(fd, randomBytes(1024), 0, 1024, 0); closeSync(fd)
    utimesSync(b, new Date(), new Date(Date.now() + 5000))

    engine = await openTestEngine({ dataDir: join(d.path, 'data') })
    try {
      const detail = await waitFor('restart settles', () => {
        const t = engine.detail(infoHash)
        return t.state !== 'checking' && t.files.length ? t : null
      }, 30000)
      const [fa, fb] = detail.files
      assert.equal(fa!.progress, 1, 'a.bin unchanged on paper: trusted, not read (its changed bytes went unnoticed)')
      assert.equal(fb!.downloaded, 4 * MiB - 256 * 1024, 'b.bin re-hashed: exactly its first piece failed')
      assert.equal(detail.state, 'downloading')
    } finally { await engine.close() }
  } finally { d.cleanup() }
})

test('kill -9 during a download: the re-run resumes and does not download verified pieces again', async () => {
  const d = tempDir()
  const seeder = await openTestEngine({ dataDir: join(d.path, 'seeder'), settings: { maxUploadSpeed: 1 * MiB } })
  try {
    const size = 16 * MiB
    const src = randomFile(join(d.path, 'src', 'big.bin'), size)
    const shared = await seeder.share([src], { pieceLength: 256 * 1024 })
    const args = ['get', shared.magnetURI, '--out', join(d.path, 'out'), '--data', join(d.path, 'data'), '--peer', `127.0.0.1:${seeder.listeningPort}`, '--no-dht', '--no-lsd', '--json', '--timeout', '120']

    let progressAtKill = 0
    const first = runCli(args, {
      onLine: (l) => {
        const m = JSON.parse(l) as { type: string; progress?: number }
        // Past the first resume save (every 5 s) and before the end.
        if (m.type === 'progress' && (m.progress ?? 0) >= 0.55 && progressAtKill === 0) {
          progressAtKill = m.progress!
          first.kill('SIGKILL')
        }
      }
    })
    const code = await first.exited
    assert.equal(code, null, `the first run was killed (stderr: ${first.stderr()})`)
    assert.ok(progressAtKill >= 0.55 && progressAtKill < 1, `killed at ${progressAtKill}`)
    const sentBefore = seeder.list()[0]!.uploaded
    const saved = JSON.parse(readFileSync(join(d.path, 'data', 'config.json'), 'utf8')) as { torrents: Array<{ resume: unknown }> }
    assert.ok(saved.torrents[0]?.resume, 'resume data was saved before the kill')

    await seeder.updateSettings({ maxUploadSpeed: 0 })
    const second = runCli(args)
    const lines: Array<{ type: string; progress?: number }> = []
    const code2 = await second.exited
    for (const l of second.lines) lines.push(JSON.parse(l))
    assert.equal(code2, 0, `the re-run completes (stderr: ${second.stderr()})`)
    assert.equal(lines.at(-1)?.type, 'done')
    assert.equal(await sha256File(join(d.path, 'out', 'big.bin')), await sha256File(src))
    const resent = seeder.list()[0]!.uploaded - sentBefore
    const missing = size * (1 - progressAtKill)
    // Pieces in flight at the kill may be sent twice; four pieces of slack covers them.
    assert.ok(resent <= missing + 4 * 256 * 1024, `the seeder sent ${resent} bytes again; only ${missing} were missing`)
  } finally {
    await seeder.close()
    d.cleanup()
  }
})
