// The built `shoal` CLI as users run it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { readFileSync, existsSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import bencode from 'bencode'
import { tempDir, randomFile, sha256File, waitFor } from '../helpers/fixtures.ts'
import { runCli, runCliToEnd } from '../helpers/cli.ts'
import { attachStrace, type Attached } from '../helpers/strace.ts'
import type { Loaded } from '../helpers/record-loaded.ts'

function hasBinary (name: string): boolean {
  try { execFileSync('sh', ['-c', `command -v ${name}`]); return true } catch { return false }
}
/** Env for runCli that makes the process write what it loaded to `out` (helpers/record-loaded.ts). */
function recordLoaded (out: string): NodeJS.ProcessEnv {
  return { NODE_OPTIONS: `--import=${join(import.meta.dirname, '../helpers/record-loaded.ts')}`, SHOAL_LOADED_OUT: out }
}
function infoHashOf (file: string): string {
  const t = bencode.decode(readFileSync(file)) as { info: unknown }
  return createHash('sha1').update(bencode.encode(t.info)).digest('hex')
}

test('shoal create writes a .torrent with the same info hash as mktorrent, and no tracker unless asked', async (t) => {
  if (!hasBinary('mktorrent')) return t.skip('mktorrent not installed')
  const d = tempDir()
  try {
    randomFile(join(d.path, 'box', 'a.bin'), 700000)
    randomFile(join(d.path, 'box', 'sub', 'b.bin'), 300000)
    randomFile(join(d.path, 'box', 'a.txt'), 10)
    const r = await runCliToEnd(['create', join(d.path, 'box'), '-o', join(d.path, 'shoal.torrent'), '--piece-length', '32768'])
    assert.equal(r.code, 0, r.stderr)
    execFileSync('mktorrent', ['-l', '15', '-o', join(d.path, 'mk.torrent'), join(d.path, 'box')])
    assert.equal(infoHashOf(join(d.path, 'shoal.torrent')), infoHashOf(join(d.path, 'mk.torrent')))
    assert.equal(r.stdout[0], infoHashOf(join(d.path, 'shoal.torrent')))
    const decoded = bencode.decode(readFileSync(join(d.path, 'shoal.torrent'))) as Record<string, unknown>
    assert.equal(decoded.announce, undefined, 'no tracker written')
  } finally { d.cleanup() }
})

// zod and the contract take 27 ms of a 0.415 s `shoal create` of 512 MiB here: the command loads
// them only when it has options for them to check.
test('shoal create without options does not load the contract schemas; with options it checks them', async (t) => {
  if (!hasBinary('mktorrent')) return t.skip('mktorrent not installed')
  const d = tempDir()
  try {
    // Over 4 MiB, so the command's own thread and its early-started worker share the hashing.
    randomFile(join(d.path, 'big.bin'), 20 * 1024 * 1024 + 777) // a default piece length mktorrent takes (32 KiB)
    const plain = runCli(['create', join(d.path, 'big.bin'), '-o', join(d.path, 'plain.torrent')], { env: recordLoaded(join(d.path, 'plain.json')) })
    assert.equal(await plain.exited, 0, plain.stderr())
    const torrent = bencode.decode(readFileSync(join(d.path, 'plain.torrent'))) as { info: { 'piece length': number } }
    const log2 = Math.log2(torrent.info['piece length'])
    execFileSync('mktorrent', ['-l', String(log2), '-o', join(d.path, 'mk.torrent'), join(d.path, 'big.bin')])
    assert.equal(infoHashOf(join(d.path, 'plain.torrent')), infoHashOf(join(d.path, 'mk.torrent')))
    assert.equal(plain.lines[0], infoHashOf(join(d.path, 'plain.torrent')))
    assert.equal((JSON.parse(readFileSync(join(d.path, 'plain.json'), 'utf8')) as Loaded).zod, false, 'a plain create loads no zod')

    const bad = runCli(['create', join(d.path, 'big.bin'), '-o', join(d.path, 'bad.torrent'), '--piece-length', '1000'], { env: recordLoaded(join(d.path, 'bad.json')) })
    assert.equal(await bad.exited, 1)
    assert.match(bad.stderr(), /--piece-length: .*16384/)
    assert.equal(existsSync(join(d.path, 'bad.torrent')), false, 'nothing written for a refused option')
    assert.equal((JSON.parse(readFileSync(join(d.path, 'bad.json'), 'utf8')) as Loaded).zod, true, 'options are checked by the contract schema')
  } finally { d.cleanup() }
})

// The CLI is one esbuild bundle (scripts/bundle-cli.mjs). A bundle can break quietly: inlined, a
// native addon loses its binary and the engine falls back (no uTP, no file locks) with a log line.
test('the bundled shoal command hashes on its worker threads and loads its native addons from node_modules', async (t) => {
  if (!hasBinary('mktorrent')) return t.skip('mktorrent not installed')
  const d = tempDir()
  try {
    // Over 4 MiB: hashed on worker threads, not on the calling thread (piece-hasher INLINE_BYTES).
    randomFile(join(d.path, 'big.bin'), 9 * 1024 * 1024 + 12345)
    const r = await runCliToEnd(['create', join(d.path, 'big.bin'), '-o', join(d.path, 'shoal.torrent'), '--piece-length', '262144'])
    assert.equal(r.code, 0, r.stderr)
    execFileSync('mktorrent', ['-l', '18', '-o', join(d.path, 'mk.torrent'), join(d.path, 'big.bin')])
    assert.equal(infoHashOf(join(d.path, 'shoal.torrent')), infoHashOf(join(d.path, 'mk.torrent')))

    const seed = runCli(['seed', join(d.path, 'big.bin'), '--no-dht', '--no-lsd', '--port', '0', '--data', join(d.path, 'seed-data')])
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not seeding: ${seed.stderr()}`)), 30000)
        const poll = setInterval(() => { if (/seeding .* on port \d+/.test(seed.stderr())) { clearInterval(poll); clearTimeout(timer); resolve() } }, 50)
      })
      const maps = readFileSync(`/proc/${seed.child.pid}/maps`, 'utf8')
      // utp-native: the build of Shoal's patched libutp made at install (scripts/build-utp.mjs)
      const binaries = { 'fs-native-extensions': 'prebuilds/[^\\n]*', 'utp-native': 'build/Release/utp_native' }
      for (const [pkg, path] of Object.entries(binaries)) {
        assert.match(maps, new RegExp(`/node_modules/${pkg}/${path}\\.node\\n`), `${pkg}'s binary is loaded`)
      }
      assert.doesNotMatch(seed.stderr(), /not supported|Cannot find module/, 'no native part fell back')
    } finally {
      seed.kill('SIGTERM')
      assert.equal(await seed.exited, 0, 'seed exits cleanly on SIGTERM')
    }
  } finally { d.cleanup() }
})

test('shoal seed prints the magnet first; shoal get downloads it, verifies, exits 0; a re-run is instant, one into another folder is refused', async () => {
  const d = tempDir()
  const seed = runCli(['seed', join(d.path, 'src'), '--no-dht', '--no-lsd', '--port', '0', '--data', join(d.path, 'seed-data')])
  try {
    randomFile(join(d.path, 'src', 'one.bin'), 3 * 1024 * 1024)
    randomFile(join(d.path, 'src', 'two', 'two.bin'), 1024 * 1024)
    const started = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no magnet printed: ${seed.stderr()}`)), 30000)
      const poll = setInterval(() => { if (seed.lines[0] && /seeding .* on port (\d+)/.test(seed.stderr())) { clearInterval(poll); clearTimeout(timer); resolve(seed.lines[0]) } }, 50)
    })
    assert.match(started, /^magnet:\?xt=urn:btih:[0-9a-f]{40}/)
    // WebRTC's native library loads with the first WebRTC connection, not with the engine (patched
    // webrtc-polyfill): a seed that has made none has not mapped it.
    assert.ok(!readFileSync(`/proc/${seed.child.pid}/maps`, 'utf8').includes('node_datachannel'), 'node-datachannel is not loaded by an idle seed')
    const port = /on port (\d+)/.exec(seed.stderr())![1]
    const get = ['get', started, '--out', join(d.path, 'out'), '--peer', `127.0.0.1:${port}`, '--no-dht', '--no-lsd', '--data', join(d.path, 'get-data'), '--json', '--timeout', '60']
    const r = await runCliToEnd(get)
    assert.equal(r.code, 0, r.stderr)
    const last = JSON.parse(r.stdout.at(-1)!) as { type: string; path: string }
    assert.equal(last.type, 'done')
    assert.equal(await sha256File(join(d.path, 'out', 'src', 'one.bin')), await sha256File(join(d.path, 'src', 'one.bin')))
    assert.equal(await sha256File(join(d.path, 'out', 'src', 'two', 'two.bin')), await sha256File(join(d.path, 'src', 'two', 'two.bin')))
    const again = await runCliToEnd(get)
    assert.equal(again.code, 0, again.stderr)
    assert.equal(JSON.parse(again.stdout[0]!).progress, 1, 'the stored download is complete at once')
    // The same data folder with another --out: refused with the folder it has, nothing moved or made.
    const elsewhere = await runCliToEnd(get.map((a) => (a === join(d.path, 'out') ? join(d.path, 'elsewhere') : a)))
    assert.notEqual(elsewhere.code, 0, 'a known torrent into another folder is refused')
    const refusal = JSON.parse(elsewhere.stdout.at(-1)!) as { type: string; code: string; message: string }
    assert.equal(refusal.type, 'error')
    assert.equal(refusal.code, 'DUPLICATE')
    assert.ok(refusal.message.includes(`--out ${join(d.path, 'out')}`), refusal.message)
    assert.ok(!existsSync(join(d.path, 'elsewhere')), 'nothing written to the other folder')
    assert.equal(await sha256File(join(d.path, 'out', 'src', 'one.bin')), await sha256File(join(d.path, 'src', 'one.bin')))
  } finally {
    seed.kill('SIGTERM')
    assert.equal(await seed.exited, 0, 'seed exits cleanly on SIGTERM')
    d.cleanup()
  }
})

test('shoal get fails with a one-line reason and a non-zero exit on bad input', async () => {
  const d = tempDir()
  try {
    const cases: Array<[string[], RegExp]> = [
      [['get', 'magnet:?xt=urn:btih:123', '--out', d.path, '--data', d.path], /info hash in this magnet link is malformed/],
      [['get', join(d.path, 'missing.torrent'), '--out', d.path, '--data', d.path], /does not exist/],
      [['get', 'c'.repeat(40), '--data', d.path], /needs --out/],
      [['get', 'c'.repeat(40), '--out', d.path, '--port', 'x', '--data', d.path], /--port must be a number/],
      [['frobnicate'], /unknown command/]
    ]
    for (const [args, why] of cases) {
      const r = await runCliToEnd(args, 30000)
      assert.notEqual(r.code, 0, args.join(' '))
      assert.match(r.stderr, why)
      assert.equal(r.stderr.trim().split('\n')[0]!.startsWith('shoal: '), true, `one clear line: ${r.stderr}`)
    }
  } finally { d.cleanup() }
})

// Nagle held a small write (a handshake's last message) until the peer acknowledged the one before,
// and the peer's delayed ACK took 40 ms: twice in each encrypted connection between two Shoals
// (TCP connect to first piece 65-81 ms, 32-48 without). Both ends' sockets are traced.
test('shoal seed and shoal get send on their peer connections without Nagle\'s wait (TCP_NODELAY)', async (t) => {
  if (!hasBinary('strace')) return t.skip('strace not installed')
  const d = tempDir()
  const src = randomFile(join(d.path, 'a.bin'), 1024 * 1024)
  const seed = runCli(['seed', src, '--no-dht', '--no-lsd', '--port', '0', '--data', join(d.path, 'seed-data')])
  const traces = { seed: join(d.path, 'seed.strace'), get: join(d.path, 'get.strace') }
  const options = ['-f', '-yy', '-e', 'trace=setsockopt']
  let seedTracer: Attached | null = null
  try {
    const port = (await waitFor('shoal seed to seed', () => /seeding .* on port (\d+)/.exec(seed.stderr())))[1]!
    seedTracer = await attachStrace(seed.child.pid!, options, traces.seed)
    const get = runCli(['get', seed.lines[0]!, '--out', join(d.path, 'out'), '--peer', `127.0.0.1:${port}`, '--no-dht', '--no-lsd', '--data', join(d.path, 'get-data'), '--json', '--timeout', '60'],
      { tracer: ['strace', ...options, '-o', traces.get] })
    assert.equal(await get.exited, 0, get.stderr())
    assert.equal(await sha256File(join(d.path, 'out', 'a.bin')), await sha256File(src))
    await seedTracer.stop()
    // strace -yy names a socket by its ends: the seeder's accepted one ends at its own port, the getter's dial at the seeder's
    const noDelay = (file: string, socket: RegExp): boolean => readFileSync(file, 'utf8').split('\n')
      .some((l) => /setsockopt\(\d+<TCP(?:v6)?:\[(.+)\]>, SOL_TCP, TCP_NODELAY, \[1\]/.exec(l)?.[1]?.match(socket))
    // an IPv6 socket names an IPv4 end [::ffff:127.0.0.1]:port
    assert.ok(noDelay(traces.seed, new RegExp(`^\\[?(::ffff:)?127\\.0\\.0\\.1\\]?:${port}->`)), `the seeder's peer connection keeps Nagle on:\n${readFileSync(traces.seed, 'utf8').slice(0, 2000)}`)
    assert.ok(noDelay(traces.get, new RegExp(`->\\[?(::ffff:)?127\\.0\\.0\\.1\\]?:${port}$`)), `the getter's peer connection keeps Nagle on:\n${readFileSync(traces.get, 'utf8').slice(0, 2000)}`)
  } finally {
    await seedTracer?.stop()
    seed.kill('SIGTERM')
    await seed.exited
    d.cleanup()
  }
})

test('shoal seed and shoal get load no HTTP, TLS or zlib: the WebSocket tracker client, NAT mapper, blocklist reader and file server wait until used', async () => {
  const d = tempDir()
  const record = (name: string): NodeJS.ProcessEnv => recordLoaded(join(d.path, `${name}.json`))
  const src = randomFile(join(d.path, 'a.bin'), 1024 * 1024)
  const seed = runCli(['seed', src, '--no-dht', '--no-lsd', '--port', '0', '--data', join(d.path, 'seed-data')], { env: record('seed') })
  try {
    const port = (await waitFor('shoal seed to seed', () => /seeding .* on port (\d+)/.exec(seed.stderr())))[1]!
    const get = runCli(['get', seed.lines[0]!, '--out', join(d.path, 'out'), '--peer', `127.0.0.1:${port}`, '--no-dht', '--no-lsd', '--data', join(d.path, 'get-data'), '--json', '--timeout', '60'],
      { env: record('get') })
    assert.equal(await get.exited, 0, get.stderr())
    assert.equal(await sha256File(join(d.path, 'out', 'a.bin')), await sha256File(src))
  } finally {
    seed.kill('SIGTERM')
    await seed.exited
  }
  try {
    for (const name of ['seed', 'get']) {
      const loaded = (JSON.parse(readFileSync(join(d.path, `${name}.json`), 'utf8')) as Loaded).builtins
      assert.ok(loaded.includes('net') && loaded.includes('crypto'), `${name}: the record lists what a peer needs (${loaded.length} modules)`)
      const unwanted = loaded.filter((m) => ['http', 'https', 'tls', 'zlib', 'http2'].includes(m))
      assert.deepEqual(unwanted, [], `${name} loaded ${unwanted.join(', ')}`)
    }
  } finally { d.cleanup() }
})
