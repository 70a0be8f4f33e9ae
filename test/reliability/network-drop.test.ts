// The downloader's network goes away for 15 s in the middle of a transfer (its veth is set down,
// as when Wi-Fi drops), then comes back: the download must resume by itself and complete with the
// right bytes. Seeder and downloader are Shoal engines in two network namespaces joined by a veth
// pair; the seeder is rate-limited so the drop lands mid-transfer. The recovery time (link up to
// the next verified piece) goes to the reliability report.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join, resolve } from 'node:path'
import { randomFile, sha256File, tempDir, waitFor } from '../helpers/fixtures.ts'
import { VethPair, labUnavailable, A_IP, type NsProcess } from '../netns/lab.ts'
import { openTestEngine } from '../helpers/engines.ts'
import type { Engine } from '../../main/engine/engine.ts'
import { writeFigures } from './figures.ts'

const MiB = 1024 * 1024
const RUNNER = resolve(import.meta.dirname, 'fault-runner.ts')
const LONG = process.env.SHOAL_RELIABILITY_LONG === '1'
const DROP_MS = Number(process.env.SHOAL_NETDROP_MS ?? 15_000)
// Long enough that the connection times out (30 s without a piece) and webtorrent's three
// reconnects (1 + 5 + 15 s) all fail: before the engine re-dialled stranded downloads, this froze.
const LONG_DROP_MS = Number(process.env.SHOAL_NETDROP_LONG_MS ?? 65_000)
const lines: string[] = []

interface Status { type: string; state?: string; progress?: number; wires?: number; error?: string | null }
const statuses = (p: NsProcess): Status[] => p.lines.map((l) => { try { return JSON.parse(l) as Status } catch { return { type: 'text' } } }).filter((s) => s.type === 'status')
const last = (p: NsProcess): Status => statuses(p).at(-1) ?? { type: 'none' }

async function dropTest (t: { skip: (why: string) => void }, dropMs: number, tag: string): Promise<void> {
  const why = labUnavailable()
  if (why) { t.skip(why); return }
  const lab = new VethPair(tag)
  const d = tempDir('shoal-netdrop-')
  try {
    lab.up()
    const src = randomFile(join(d.path, 'src', 'drop.bin'), 8 * MiB)
    const want = await sha256File(src)
    const seed = lab.node(lab.a, [RUNNER, JSON.stringify({ mode: 'seed', file: src, data: join(d.path, 'seed'), upload: 512 * 1024, port: 16901, pieceLength: 64 * 1024 })])
    const shared = JSON.parse(await seed.line(/"type":"shared"/, 60_000)) as { magnetURI: string }
    const get = lab.node(lab.b, [RUNNER, JSON.stringify({ mode: 'get', source: shared.magnetURI, data: join(d.path, 'get'), peers: [`${A_IP}:16901`], port: 16902 })])

    await waitFor('the transfer to be under way (10%)', () => (last(get).progress ?? 0) >= 0.1, 60_000, 100)
    const atDrop = last(get).progress!
    assert.ok(atDrop < 0.6, `the drop must land mid-transfer (progress ${atDrop})`)
    lab.ip(lab.b, 'link', 'set', 'v0', 'down')
    const downAt = Date.now()
    // Wait out the drop while watching: nothing can arrive while the link is down.
    await new Promise((r) => setTimeout(r, dropMs))
    const duringDrop = last(get)
    lab.ip(lab.b, 'link', 'set', 'v0', 'up')
    const upAt = Date.now()
    const atUp = duringDrop.progress ?? 0
    assert.ok(atUp < 1, 'the download was not complete when the link came back')
    assert.notEqual(duringDrop.state, 'error', `no error state from a network drop (${duringDrop.error ?? ''})`)

    // No user action from here on: no addPeer, no resume, no restart.
    await waitFor('data flowing again after the link came back', () => (last(get).progress ?? 0) > atUp, 90_000, 100)
    const recoveredMs = Date.now() - upAt
    await waitFor('the download to complete', () => last(get).progress === 1 && last(get).state === 'seeding', 90_000, 200)
    const doneMs = Date.now() - upAt
    assert.equal(await sha256File(join(d.path, 'get', 'downloads', 'drop.bin')), want)

    // Verified progress never went down.
    const ps = statuses(get).map((s) => s.progress ?? 0)
    assert.ok(ps.every((p, i) => i === 0 || p >= ps[i - 1]!), 'verified progress never went down')
    const line = `link down ${((upAt - downAt) / 1000).toFixed(1)} s at ${(atDrop * 100).toFixed(0)}% (${duringDrop.wires ?? 0} connection(s) left at its end); data flowed again ${(recoveredMs / 1000).toFixed(1)} s after the link came back, complete ${(doneMs / 1000).toFixed(1)} s after; SHA-256 verified`
    console.log(line)
    lines.push(line)
  } finally {
    await lab.down()
    d.cleanup()
  }
}

test(`network drop: the downloader's link goes down for ${DROP_MS / 1000} s mid-transfer; the download resumes by itself and completes`, { timeout: DROP_MS + 150_000 }, async (t) => {
  await dropTest(t, DROP_MS, 'drop')
})

test(`network drop, long (${LONG_DROP_MS / 1000} s, connection timed out and given up): the download still resumes by itself`, { timeout: LONG_DROP_MS + 150_000, skip: LONG ? false : 'long variant: SHOAL_RELIABILITY_LONG=1 (npm run test:reliability -- --long)' }, async (t) => {
  await dropTest(t, LONG_DROP_MS, 'ldrop')
})

test('the only seeder is gone long enough for webtorrent to give it up, then returns at the same address: the download resumes by itself', { timeout: 120_000 }, async () => {
  const d = tempDir('shoal-giveup-')
  const engines = new Set<Engine>()
  const open = async (name: string, settings: Parameters<typeof openTestEngine>[0]['settings'] = {}) => {
    const e = await openTestEngine({ dataDir: join(d.path, name), settings })
    engines.add(e)
    return e
  }
  const close = async (e: Engine) => { engines.delete(e); await e.close() }
  try {
    const src = randomFile(join(d.path, 'src', 'giveup.bin'), 6 * MiB)
    const want = await sha256File(src)
    let seeder = await open('seeder', { maxUploadSpeed: 1 * MiB })
    const port = seeder.listeningPort
    await close(seeder)
    seeder = await open('seeder', { maxUploadSpeed: 1 * MiB, port })
    const shared = await seeder.share([src], { pieceLength: 64 * 1024 })
    // TCP only: a refused dial is then final at once (a uTP dial waits out its 5 s timeout), so
    // webtorrent's give-up comes at a known time.
    const leecher = await open('leecher', { utp: false })
    const row = () => leecher.list().find((x) => x.infoHash === shared.infoHash)
    await leecher.add(shared.magnetURI, { peers: [`127.0.0.1:${port}`] })
    await waitFor('a quarter downloaded', () => (row()?.progress ?? 0) >= 0.25, 60_000, 50)
    await close(seeder)
    const goneAt = Date.now()
    const atGone = row()!.progress
    assert.ok(atGone < 1, 'the transfer was under way when the seeder left')
    // Every redial is refused at once, so webtorrent's three reconnects (1 + 5 + 15 s) are spent
    // well within this; the peer is then dropped from its list for good.
    await waitFor('the downloader to lose its connection', () => row()?.peers === 0 && row()?.seeds === 0, 30_000, 100)
    await new Promise((r) => setTimeout(r, 30_000))
    assert.ok(row()!.progress < 1 && row()!.state !== 'error', `stalled, not failed (${row()!.state})`)

    // The seeder comes back at the same address. Nothing is done on the downloader's side.
    seeder = await open('seeder', { port })
    const backAt = Date.now()
    await waitFor('data flowing again', () => (row()?.progress ?? 0) > atGone, 60_000, 100)
    const recoveredMs = Date.now() - backAt
    await waitFor('the download to complete', () => row()?.progress === 1, 60_000, 100)
    assert.equal(await sha256File(join(d.path, 'leecher', 'downloads', 'giveup.bin')), want)
    const line = `the only seeder was gone ${((backAt - goneAt) / 1000).toFixed(0)} s (refused, so given up by webtorrent); data flowed again ${(recoveredMs / 1000).toFixed(1)} s after it came back at the same address; SHA-256 verified`
    console.log(line)
    lines.push(line)
  } finally {
    for (const e of engines) await e.close()
    d.cleanup()
  }
})

test('network drop: figures written', () => {
  writeFigures('network-drop', { title: 'Network drops and stranded downloads', reportLines: lines, bytesLost: 0 })
})
