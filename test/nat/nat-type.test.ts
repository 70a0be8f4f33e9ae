// `shoal nat` end to end inside the NAT lab: each emulated NAT behaviour must be classified right
// (RFC 5780 against coturn), servers without RFC 5780 or without an answer must give clear results,
// and with a UPnP router the JSON carries the mapping and the verdict.
import { test, before, after, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { NatLab, labUnavailable, STUN_5780, STUN_PLAIN, STUN_PLAIN_2, WAN_PEER_IP, ROUTER_PUBLIC_IP, HOME_IP, type Behaviour } from './lab.ts'

const unavailable = labUnavailable()
const lab = new NatLab('nt')
const SHOAL = fileURLToPath(new URL('../../main/cli/shoal.ts', import.meta.url))

before(() => { if (!unavailable) lab.up('port-restricted') })
after(() => {
  if (unavailable) return
  lab.down()
  const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.startsWith('shoalnat_nt_'))
  assert.deepEqual(left, [], 'the lab left namespaces behind')
})

interface NatJson {
  verdict: string
  reachable: boolean | null
  upnp: { available: boolean; externalAddress: string | null; mappings: Array<{ protocol: string; externalPort: number; method: string }> }
  nat: { mapping: string; filtering: string; type: string; publicAddress: string | null; server: string | null; error: string | null }
  stun: { rfc5780: boolean; publicEndpoint: string | null } | null
}

/** Runs `shoal nat ARGS` in the home namespace (async: the test process must stay responsive). */
function shoalNat (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = lab.spawnIn(lab.home, [process.execPath, SHOAL, 'nat', ...args])
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

async function natJson (t: TestContext, args: string[]): Promise<NatJson | null> {
  if (unavailable) { t.skip(unavailable); return null }
  const r = await shoalNat(['--json', ...args])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as NatJson
}

const EXPECTED: Array<[Behaviour, string, string, string]> = [
  ['full-cone', 'endpoint-independent', 'endpoint-independent', 'full-cone'],
  ['restricted', 'endpoint-independent', 'address-dependent', 'restricted-cone'],
  ['port-restricted', 'endpoint-independent', 'address-and-port-dependent', 'port-restricted-cone'],
  ['symmetric', 'address-and-port-dependent', 'address-and-port-dependent', 'symmetric']
]
for (const [behaviour, mapping, filtering, type] of EXPECTED) {
  test(`shoal nat --json classifies a ${behaviour} NAT as ${type}`, async (t) => {
    if (!unavailable) lab.setBehaviour(behaviour)
    const r = await natJson(t, ['--no-upnp', '--stun', STUN_5780])
    if (!r) return
    assert.deepEqual(
      { mapping: r.nat.mapping, filtering: r.nat.filtering, type: r.nat.type, publicAddress: r.nat.publicAddress, server: r.nat.server, error: r.nat.error },
      { mapping, filtering, type, publicAddress: ROUTER_PUBLIC_IP, server: STUN_5780, error: null })
    assert.equal(r.stun?.rfc5780, true)
    if (type === 'symmetric') assert.equal(r.verdict, 'Behind symmetric NAT: incoming connections impossible, outgoing only')
  })
}

test('a STUN server without RFC 5780: public address known, behaviour unknown, and it says why', async (t) => {
  if (!unavailable) lab.setBehaviour('port-restricted')
  const r = await natJson(t, ['--no-upnp', '--stun', STUN_PLAIN])
  if (!r) return
  assert.equal(r.nat.publicAddress, ROUTER_PUBLIC_IP)
  assert.deepEqual([r.nat.mapping, r.nat.filtering, r.nat.type], ['unknown', 'unknown', 'unknown'])
  assert.equal(r.stun?.rfc5780, false)
  assert.match(r.nat.error ?? '', /does not support RFC 5780 \(no OTHER-ADDRESS\)/)
  assert.match(r.verdict, /^Reachability unknown/)
})

test('two servers without RFC 5780 still tell the mapping: independent behind a cone NAT, dependent behind a symmetric one', async (t) => {
  if (!unavailable) lab.setBehaviour('port-restricted')
  const cone = await natJson(t, ['--no-upnp', '--stun', STUN_PLAIN, '--stun', STUN_PLAIN_2])
  if (!cone) return
  assert.deepEqual([cone.nat.mapping, cone.nat.filtering, cone.nat.type], ['endpoint-independent', 'unknown', 'unknown'])
  assert.match(cone.nat.error ?? '', /mapping compared across 2 servers only; filtering unknown/)
  lab.setBehaviour('symmetric')
  try {
    const sym = await natJson(t, ['--no-upnp', '--stun', STUN_PLAIN, '--stun', STUN_PLAIN_2])
    assert.equal(sym?.nat.type, 'symmetric')
  } finally {
    lab.setBehaviour('port-restricted')
  }
})

test('a STUN server that is down (port unreachable) is reported as down, not as blocked UDP', async (t) => {
  const r = await natJson(t, ['--no-upnp', '--stun', `${WAN_PEER_IP}:3478`])
  if (!r) return
  assert.equal(r.nat.type, 'unknown')
  assert.match(r.nat.error ?? '', /refused the request .*server down/)
})

test('blocked UDP: no STUN server answers, type udp-blocked, verdict says so', async (t) => {
  if (!unavailable) lab.setBehaviour('udp-blocked')
  try {
    const r = await natJson(t, ['--no-upnp', '--stun', STUN_5780, '--stun', STUN_PLAIN])
    if (!r) return
    assert.equal(r.nat.type, 'udp-blocked')
    assert.equal(r.nat.publicAddress, null)
    assert.match(r.nat.error ?? '', /No answer from any of 2 STUN servers/)
    assert.match(r.verdict, /^UDP blocked/)
    assert.equal(r.reachable, false)
  } finally {
    if (!unavailable) lab.setBehaviour('port-restricted')
  }
})

test('shoal nat with a UPnP router: JSON has the mapping and the verdict; the mapping is gone after it exits', async (t) => {
  if (!unavailable) lab.startRouterDaemon({ upnp: true, natpmp: true, igdVersion: 2 })
  try {
    const r = await natJson(t, ['--port', '42001', '--stun', STUN_5780])
    if (!r) return
    assert.equal(r.upnp.available, true)
    assert.equal(r.upnp.externalAddress, ROUTER_PUBLIC_IP)
    assert.deepEqual(r.upnp.mappings.map((m) => `${m.method} ${m.protocol} ${m.externalPort}`).sort(), ['upnp TCP 42001', 'upnp UDP 42001'])
    assert.equal(r.nat.type, 'port-restricted-cone')
    assert.equal(r.verdict, 'Reachable: port 42001 mapped by UPnP')
    assert.deepEqual(lab.upnpTable().filter((l) => l.endsWith(`${HOME_IP}:42001`)), [])

    const human = await shoalNat(['--port', '42002', '--stun', STUN_5780])
    assert.equal(human.code, 0, human.stderr)
    const lines = human.stdout.split('\n')
    assert.equal(lines[0], 'Reachable: port 42002 mapped by UPnP')
    assert.ok(lines.some((l) => /NAT type\s+port-restricted-cone \(mapping endpoint-independent, filtering address-and-port-dependent\)/.test(l)), human.stdout)
  } finally {
    if (!unavailable) lab.stopRouterDaemon()
  }
})

test('shoal nat rejects a malformed STUN server before sending anything', async (t) => {
  if (unavailable) { t.skip(unavailable); return }
  const r = await shoalNat(['--stun', 'not a server'])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /a STUN server is HOST or HOST:PORT/)
})
