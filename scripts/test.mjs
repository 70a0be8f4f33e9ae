#!/usr/bin/env node
// `npm test`: build, lint, typecheck, layer check, then every test file under test/ with node's
// test runner. Each static step counts as one test, so the closing line covers everything:
//   N passed, N failed, N skipped
// `npm test -- test/engine` runs only the test files under the given paths (static steps still run
// unless SHOAL_SKIP_STATIC=1).
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, readdirSync, statSync, existsSync } from 'node:fs'
import { join, resolve, dirname } from 'node:path'

const root = resolve(dirname(new URL(import.meta.url).pathname), '..')
process.chdir(root)
const npmBin = process.platform === 'win32' ? 'npm.cmd' : 'npm'

let passed = 0
let failed = 0
let skipped = 0
const failures = []

function step (name, cmd, args) {
  const t0 = Date.now()
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`)
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: process.env })
  const secs = ((Date.now() - t0) / 1000).toFixed(1)
  if (r.status === 0) { passed++; console.log(`=== ${name}: ok (${secs} s)`) } else { failed++; failures.push(name); console.log(`=== ${name}: FAILED (${secs} s)`) }
  return r.status === 0
}

function testFiles (paths) {
  const out = []
  const visit = (p) => {
    if (!existsSync(p)) return
    if (statSync(p).isDirectory()) { for (const n of readdirSync(p).sort()) visit(join(p, n)) } else if (/\.test\.ts$/.test(p)) out.push(p)
  }
  for (const p of paths) visit(p)
  return out
}

const args = process.argv.slice(2)
if (process.env.SHOAL_SKIP_STATIC !== '1') {
  const built = step('build', npmBin, ['run', '--silent', 'build'])
  step('lint', npmBin, ['run', '--silent', 'lint'])
  step('typecheck', npmBin, ['run', '--silent', 'typecheck'])
  step('layers', npmBin, ['run', '--silent', 'check:layers'])
  if (!built) console.log('build failed: tests that run the built CLI will fail too')
}

const files = testFiles(args.length ? args : ['test'])
mkdirSync('.tmp', { recursive: true })
const tap = join('.tmp', 'test-results.tap')
console.log(`\n=== tests: ${files.length} files`)
const r = spawnSync(process.execPath, [
  '--test', '--test-concurrency=1', '--test-timeout=600000',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=tap', `--test-reporter-destination=${tap}`,
  ...files
], { stdio: 'inherit', env: { ...process.env, SHOAL_TEST: '1' } })

// The TAP footer has the runner's own counts (subtests included once, suites not counted).
const footer = existsSync(tap) ? readFileSync(tap, 'utf8') : ''
const count = (k) => Number((footer.match(new RegExp(`^# ${k} (\\d+)$`, 'm')) || [])[1] || 0)
passed += count('pass')
failed += count('fail') + count('cancelled')
skipped += count('skipped') + count('todo')
if (r.status !== 0 && count('fail') === 0 && count('cancelled') === 0) { failed++; failures.push(`test runner exited ${r.status}`) }

if (failures.length) console.log(`\nfailed steps: ${failures.join(', ')}`)
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(failed ? 1 : 0)
