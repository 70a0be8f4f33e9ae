// The benchmark harness runs end to end in --quick mode (16 MiB, two rounds, Shoal -> Shoal and the
// two qBittorrent yardsticks, RC4 and plaintext, or one other anchor pair; 10 torrents restarted and
// 20 idle): it prints the tables and writes JSON with every figure present and positive, each pair
// read against the yardstick with its cipher, and the restart read no payload file. No speed thresholds.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../helpers/fixtures.ts'
import { shoalBin, hasBinary } from '../interop/helpers/procs.ts'
import { roundOrder } from './round-order.ts'

const bench = join(import.meta.dirname, 'bench.ts')

test('npm run bench -- --quick prints a table and writes JSON', { timeout: 120000 }, async () => {
  shoalBin() // a clear error if dist/ is missing
  const dir = tempDir('shoal-bench-test-')
  try {
    const child = spawn(process.execPath, [bench, '--quick', '--runs', '2', '--out-dir', dir.path], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { out += d.toString() })
    const kill = setTimeout(() => { try { process.kill(child.pid!, 'SIGTERM') } catch { /* gone */ } }, 110000)
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)))
    clearTimeout(kill)
    assert.equal(code, 0, `bench --quick exited ${code}:\n${out}`)
    assert.match(out, /\| seeder -> downloader\s+\| payload\s+\| MiB\/s/, out)
    assert.match(out, /\| Shoal -> Shoal\s+\|/, out)
    assert.match(out, /\| time to share 16 MiB/, out)
    const jsonPath = /^JSON: (.+\.json)$/m.exec(out)?.[1]
    assert.ok(jsonPath && existsSync(jsonPath), `no JSON path printed:\n${out}`)
    assert.ok(jsonPath.startsWith(dir.path), jsonPath)
    const report = JSON.parse(readFileSync(jsonPath, 'utf8'))
    for (const k of ['startedAt', 'sizeMiB', 'runs', 'quick', 'pieceLength', 'clients', 'pairs', 'timeToShare']) assert.ok(k in report, `JSON lacks ${k}`)
    assert.equal(report.sizeMiB, 16)
    assert.equal(report.quick, true)
    assert.ok(report.pairs.length >= 1)
    assert.equal(report.pairs[0].pair, 'Shoal -> Shoal')
    // Rounds, not blocks: every pair's first run comes before any pair's second, the first round in
    // the list's order and the second in the order roundOrder gives (tested below).
    const rounds = [...out.matchAll(/^ {2}round (\d)\/2 (.+?): /gm)].map((m) => `${m[1]} ${m[2]}`)
    const pairNames: string[] = report.pairs.map((p: { pair: string }) => p.pair)
    const second = roundOrder(pairNames.length, 1).map((k) => pairNames[k]!)
    assert.notDeepEqual(second, pairNames)
    assert.deepEqual(rounds, [...pairNames.map((n) => `1 ${n}`), ...second.map((n) => `2 ${n}`)], out)
    for (const p of report.pairs) {
      assert.equal(p.runs, 2, `${p.pair} failed: ${p.errors.join('\n')}`)
      assert.equal(p.samples.length, 2)
      for (const k of ['mibPerS', 'firstToDoneMiBPerS', 'ttfbS', 'totalS', 'downloaderPeakRssMiB', 'seederPeakRssMiB']) {
        assert.ok(typeof p[k] === 'number' && p[k] > 0, `${p.pair}: ${k} = ${p[k]}`)
      }
      for (const k of ['downloaderCpuS', 'seederCpuS']) assert.ok(typeof p[k] === 'number' && p[k] >= 0, `${p.pair}: ${k} = ${p[k]}`)
      assert.ok('ratioToQbit' in p)
      assert.equal(p.transport, 'tcp', `${p.pair}: quick mode measures no uTP-only client`)
      const [lo, hi] = p.mibPerSRange
      assert.ok(lo > 0 && lo <= p.mibPerS && p.mibPerS <= hi, `${p.pair}: median ${p.mibPerS} outside its rounds ${lo}-${hi}`)
      assert.deepEqual([lo, hi], [Math.min(...p.samples.map((r: { mibPerS: number }) => r.mibPerS)), Math.max(...p.samples.map((r: { mibPerS: number }) => r.mibPerS))])
    }
    // Like against like: each qBittorrent yardstick's connections carried the payload cipher it was
    // configured for (qBittorrent's own report), and every ratio is against the one with the pair's cipher.
    if (hasBinary('qbittorrent-nox')) {
      const byName = (n: string) => report.pairs.find((p: { pair: string }) => p.pair === n)
      const rc4 = byName('qBittorrent -> qBittorrent')
      const plain = byName('qBittorrent (no encryption) -> qBittorrent (no encryption)')
      assert.ok(rc4 && plain, `quick mode measures both qBittorrent yardsticks: ${pairNames.join(', ')}`)
      assert.deepEqual([rc4.cipher, rc4.cipherSeen], ['rc4', ['rc4']])
      assert.deepEqual([plain.cipher, plain.cipherSeen], ['plain', ['plain']])
      const shoalPair = byName('Shoal -> Shoal')
      assert.equal(shoalPair.cipher, 'plain')
      assert.ok(Math.abs(shoalPair.ratioToQbit - shoalPair.mibPerS / plain.mibPerS) < 1e-9, 'Shoal -> Shoal is read against the plaintext yardstick')
      assert.equal(rc4.ratioToQbit, 1)
      assert.match(out, /\| qBittorrent -> qBittorrent\s+\|\s+RC4 \|/, out)
    }
    const create = report.timeToShare.find((s: { tool: string }) => s.tool === 'shoal create')
    assert.ok(create, 'no shoal create timing')
    assert.equal(create.runs, 2, 'time to share is a median over the rounds too')
    // The many-torrents part: a restart that reads no payload file, and idle figures present.
    assert.match(out, /\| restart with 10 complete torrents/, out)
    const scale = report.scale
    assert.ok(scale, 'JSON lacks scale')
    assert.equal(scale.restart.torrents, 10)
    assert.equal(scale.restart.filesRead, 0, 'the restart read payload files it had resume data for')
    assert.ok(scale.restart.secondsToAllSeeding > 0 && scale.restart.peakRssMiB > 0, JSON.stringify(scale.restart))
    assert.equal(scale.idle.torrents, 20)
    assert.ok(scale.idle.rssMiB > 0 && scale.idle.cpuPercent >= 0, JSON.stringify(scale.idle))
    for (const s of report.timeToShare) {
      assert.ok(s.seconds > 0 && s.peakRssMiB > 0 && s.cpuS >= 0, `time to share ${s.tool}: ${JSON.stringify(s)}`)
    }
  } finally {
    dir.cleanup()
  }
})

test('each bench round runs every pair once, and from round to round every pair follows another pair and another pair opens', () => {
  const gcd = (a: number, b: number): number => b === 0 ? a : gcd(b, a % b)
  for (let count = 1; count <= 16; count++) {
    const rounds = [0, 1, 2].map((r) => roundOrder(count, r))
    for (const order of rounds) assert.deepEqual([...order].sort((a, b) => a - b), Array.from({ length: count }, (_, k) => k), `${count} pairs: ${order}`)
    assert.deepEqual(rounds[0], Array.from({ length: count }, (_, k) => k), 'round 1 keeps the list order')
    if (count < 3) continue
    assert.deepEqual(rounds.map((o) => o[0]), [0, 1, 2], `${count} pairs: each round opens with another pair`)
    // The pair before each pair differs in every round, for as many rounds as there are strides
    // coprime to the count (13 pairs in a full bench: 12; 3 pairs in a quick one: 2).
    const distinct = Math.min(rounds.length, Array.from({ length: count }, (_, s) => s).filter((s) => gcd(s, count) === 1).length)
    const before = (order: number[]) => new Map(order.slice(1).map((k, j) => [k, order[j]!]))
    const maps = rounds.slice(0, distinct).map(before)
    for (let k = 0; k < count; k++) {
      const seen = maps.map((m) => m.get(k)).filter((x) => x !== undefined)
      assert.equal(new Set(seen).size, seen.length, `${count} pairs: pair ${k} follows the same pair twice (${seen})`)
    }
  }
})
