#!/usr/bin/env node
// `npm run test:reliability`: runs test/reliability/*.test.ts (the fast part, the same files
// `npm test` runs) and prints the figures they write: inputs tried, faults survived, bytes lost,
// peak RSS of each test process.
//   npm run test:reliability -- --long            the long part: 200,000 parser inputs, 2,000 engine
//                                                 adds, a fresh seed (printed; SHOAL_FUZZ_SEED=n repeats it),
//                                                 40 SIGKILLs instead of 8, a 65 s network drop, 40,000 bridge
//                                                 messages per transport, a 10-minute churn run (SHOAL_RELIABILITY_LONG=1)
//   SHOAL_FUZZ_INPUTS / SHOAL_FUZZ_ENGINE_INPUTS  set the counts directly
//   SHOAL_FAULTS_SEED / SHOAL_FAULTS_KILLS         repeat a kill loop's seed / set its kill count
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
process.chdir(root)
const long = process.argv.includes('--long')
const figuresDir = join(root, '.tmp', 'reliability')
rmSync(figuresDir, { recursive: true, force: true })
mkdirSync(figuresDir, { recursive: true })

const env = { ...process.env, SHOAL_TEST: '1', SHOAL_RELIABILITY_DIR: figuresDir }
if (long) {
  // The long variants: more kills, a longer network drop, more bridge messages, a 10-minute churn.
  env.SHOAL_RELIABILITY_LONG = '1'
  env.SHOAL_FUZZ_INPUTS ??= '200000'
  env.SHOAL_FUZZ_ENGINE_INPUTS ??= '2000'
  env.SHOAL_FUZZ_SEED ??= String(Date.now() % 2 ** 31)
}
const dir = join('test', 'reliability')
const files = readdirSync(dir).filter((n) => n.endsWith('.test.ts')).sort().map((n) => join(dir, n))
console.log(`=== reliability${long ? ' (long)' : ''}: ${files.length} files${env.SHOAL_FUZZ_SEED ? `, seed ${env.SHOAL_FUZZ_SEED}` : ''}`)
const t0 = Date.now()
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit', env })
const secs = ((Date.now() - t0) / 1000).toFixed(1)

const read = (name) => {
  const p = join(figuresDir, `${name}.json`)
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : null
}
const parsers = read('fuzz-parsers')
const engine = read('fuzz-engine')
const faults = read('faults')
const mib = (b) => `${(b / 1024 / 1024).toFixed(0)} MiB`
const n = (x) => Number(x).toLocaleString('en-US')
const missing = 'not recorded (the test failed or did not run)'

console.log('\n=== Reliability report')
console.log(parsers
  ? `Fuzzed inputs (parsers):   ${n(parsers.inputsTried)} tried, seed ${parsers.seed}: ${n(parsers.accepted)} accepted, ${n(parsers.refused)} refused with a clear error ${JSON.stringify(parsers.byCode)}; 0 crashes, 0 hangs (slowest ${Number(parsers.slowestMs).toFixed(1)} ms)`
  : `Fuzzed inputs (parsers):   ${missing}`)
console.log(engine
  ? `Fuzzed inputs (Engine.add): ${n(engine.inputsTried)} tried, seed ${engine.seed}: ${n(engine.accepted)} accepted, ${n(engine.refused)} refused ${JSON.stringify(engine.byCode)}; files outside the download folder: ${engine.filesOutsideDownloadFolder}`
  : `Fuzzed inputs (Engine.add): ${missing}`)
const inputs = (parsers?.inputsTried ?? 0) + (engine?.inputsTried ?? 0)
console.log(`Inputs tried in all:       ${n(inputs)}`)
if (faults) {
  console.log(`Faults survived:           ${faults.faultsSurvived} of ${faults.faultsTried}`)
  for (const d of faults.details) console.log(`  - ${d}`)
  console.log(`Bytes lost:                ${faults.bytesLost} (verified progress never went down; data checked by SHA-256); bytes re-downloaded: ${faults.bytesWasted}`)
} else {
  console.log(`Faults survived:           ${missing}`)
}
// Every other figures file speaks for itself: a title and the lines it wants printed.
const known = new Set(['fuzz-parsers', 'fuzz-engine', 'faults'])
const others = readdirSync(figuresDir).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5))
  .filter((n) => !known.has(n)).sort().map((n) => [n, read(n)])
for (const [name, f] of others) {
  console.log(`${f.title ?? name}:`)
  for (const line of f.reportLines ?? []) console.log(`  - ${line}`)
  if (typeof f.bytesLost === 'number') console.log(`  - bytes lost: ${f.bytesLost}`)
}
const rss = [['fuzz parsers', parsers], ['fuzz engine', engine], ['faults', faults], ...others].filter(([, f]) => f)
console.log(`Peak RSS (test processes): ${rss.length ? `${mib(Math.max(...rss.map(([, f]) => f.peakRssBytes)))} (${rss.map(([k, f]) => `${k} ${mib(f.peakRssBytes)}`).join(', ')})` : missing}`)
console.log(`Result:                    ${r.status === 0 ? 'all reliability tests passed' : `FAILED (exit ${r.status})`} in ${secs} s`)
process.exit(r.status ?? 1)
