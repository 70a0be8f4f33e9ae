// UPnP IGD v1/v2 and NAT-PMP port mapping against a real router daemon (miniupnpd) in the NAT lab.
// The NatService runs in the lab's home namespace (driver.ts); an echo listener there stands in
// for the engine, and probes from the internet namespace check what a remote peer would see.
import { test, before, after, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import type { NatStatus } from '../../main/contract/contract.ts'
import type { NatServiceOptions } from '../../main/nat/nat-service.ts'
import { HOME_IP, NatLab, labUnavailable, probeFromWan, STUN_5780 } from './lab.ts'
import { ServiceDriver } from './service-driver.ts'

const unavailable = labUnavailable()
const lab = new NatLab('pm')
const FAST_STUN = { rtoMs: 100, deadlineMs: 600 }

before(() => { if (!unavailable) lab.up('port-restricted') })
after(() => {
  if (unavailable) return
  lab.down()
  const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.startsWith('shoalnat_pm_'))
  assert.deepEqual(left, [], 'the lab left namespaces behind')
})

function options (port: number, over: Partial<NatServiceOptions> = {}): NatServiceOptions {
  return { port, stunServers: [STUN_5780], upnp: true, leaseSeconds: 600, networkCheckMs: 0, stunTiming: FAST_STUN, ...over }
}

/** Runs `body` with a fresh driver in the home namespace; always stops it. */
async function withDriver (t: TestContext, body: (d: ServiceDriver) => Promise<void>): Promise<void> {
  if (unavailable) { t.skip(unavailable); return }
  const d = new ServiceDriver(lab)
  try { await body(d) } finally { await d.stop() }
}

const reaches = async (port: number): Promise<{ tcp: boolean; udp: boolean }> => ({
  tcp: await probeFromWan(lab, 'tcp', lab.routerWanIp, port),
  udp: await probeFromWan(lab, 'udp', lab.routerWanIp, port)
})
const tableFor = (port: number): string[] => lab.upnpTable().filter((l) => l.includes(` ${port}->`)).sort()

async function waitUntil (what: string, ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

test('IGD version 2: maps TCP and UDP; the WAN side reaches the engine while mapped, and not after close', (t) => withDriver(t, async (d) => {
  lab.startRouterDaemon({ upnp: true, natpmp: false, igdVersion: 2 })
  const port = 41002
  await d.call({ op: 'listen', port })
  assert.deepEqual(await reaches(port), { tcp: false, udp: false }, 'nothing reaches the home host before mapping')

  const s = await d.call({ op: 'start', opts: options(port) })
  assert.equal(s.upnp.available, true)
  assert.equal(s.upnp.igdVersion, 2)
  assert.equal(s.upnp.externalAddress, lab.routerWanIp)
  assert.deepEqual(s.upnp.mappings.map((m) => `${m.method} ${m.protocol} ${m.externalPort}->${m.internalPort}`).sort(),
    [`upnp TCP ${port}->${port}`, `upnp UDP ${port}->${port}`])
  assert.equal(s.verdict, `Reachable: port ${port} mapped by UPnP`)
  assert.equal(s.reachable, true)
  assert.deepEqual(tableFor(port), [`TCP ${port}->${HOME_IP}:${port}`, `UDP ${port}->${HOME_IP}:${port}`])
  assert.deepEqual(await reaches(port), { tcp: true, udp: true })

  await d.call({ op: 'close' })
  assert.deepEqual(tableFor(port), [], 'close() removes both mappings from the router')
  assert.deepEqual(await reaches(port), { tcp: false, udp: false })
}))

test('IGD version 1: maps and removes the same way', (t) => withDriver(t, async (d) => {
  lab.startRouterDaemon({ upnp: true, natpmp: false, igdVersion: 1 })
  const port = 41001
  await d.call({ op: 'listen', port })
  const s = await d.call({ op: 'start', opts: options(port) })
  assert.equal(s.upnp.igdVersion, 1)
  assert.equal(s.verdict, `Reachable: port ${port} mapped by UPnP`)
  assert.deepEqual(tableFor(port), [`TCP ${port}->${HOME_IP}:${port}`, `UDP ${port}->${HOME_IP}:${port}`])
  assert.deepEqual(await reaches(port), { tcp: true, udp: true })
  await d.call({ op: 'close' })
  assert.deepEqual(tableFor(port), [])
}))

test('NAT-PMP only: falls back to NAT-PMP, forwards while mapped, removes on close', (t) => withDriver(t, async (d) => {
  lab.startRouterDaemon({ upnp: false, natpmp: true, igdVersion: 2 })
  const port = 41003
  await d.call({ op: 'listen', port })
  const s = await d.call({ op: 'start', opts: options(port) })
  assert.equal(s.upnp.available, false)
  assert.deepEqual(s.natpmp, { available: true, externalAddress: lab.routerWanIp })
  assert.deepEqual(s.upnp.mappings.map((m) => `${m.method} ${m.protocol} ${m.externalPort}`).sort(), [`natpmp TCP ${port}`, `natpmp UDP ${port}`])
  assert.equal(s.verdict, `Reachable: port ${port} mapped by NAT-PMP`)
  assert.match(lab.routerForwards(), new RegExp(`dport ${port} `))
  assert.deepEqual(await reaches(port), { tcp: true, udp: true })
  await d.call({ op: 'close' })
  assert.doesNotMatch(lab.routerForwards(), new RegExp(`dport ${port} `), 'the router forgot the mapping')
  assert.deepEqual(await reaches(port), { tcp: false, udp: false })
}))

test('no IGD and no NAT-PMP: says so, and the verdict falls back to the NAT type', (t) => withDriver(t, async (d) => {
  lab.stopRouterDaemon()
  const s = await d.call({ op: 'start', opts: options(41004, { discoveryTimeoutMs: 1000 }) })
  assert.equal(s.upnp.available, false)
  assert.equal(s.natpmp.available, false)
  assert.deepEqual(s.upnp.mappings, [])
  assert.match(s.upnp.error ?? '', /No UPnP IGD or NAT-PMP gateway answered/)
  assert.equal(s.nat.type, 'port-restricted-cone')
  assert.equal(s.verdict, 'Not reachable: port-restricted cone NAT and the router offers no UPnP or NAT-PMP; outgoing connections and hole punching only')
  assert.equal(s.reachable, false)
}))

test('double NAT: a router with a shared-space WAN address cannot map; the verdict says double NAT', (t) => withDriver(t, async (d) => {
  lab.setWan(true)
  try {
    lab.startRouterDaemon({ upnp: true, natpmp: true, igdVersion: 2 })
    const s = await d.call({ op: 'start', opts: options(41005) })
    assert.equal(s.upnp.available, true)
    assert.deepEqual(s.upnp.mappings, [])
    assert.equal(s.nat.publicAddress, '198.20.0.1', 'STUN sees the ISP NAT address')
    assert.match(s.verdict, /^Double NAT: the router's WAN address is private/)
    assert.equal(s.reachable, false)
    assert.deepEqual(tableFor(41005), [])
    await d.call({ op: 'close' })
  } finally {
    lab.setWan(false)
  }
}))

test('renewal: a short lease is renewed before it ends, and forwarding keeps working for TCP and UDP', (t) => withDriver(t, async (d) => {
  lab.startRouterDaemon({ upnp: true, natpmp: false, igdVersion: 2 })
  const port = 41006
  const lease = 4
  await d.call({ op: 'listen', port })
  const first = await d.call({ op: 'start', opts: options(port, { leaseSeconds: lease, stunServers: [] }) })
  const firstExpiry = Math.max(...first.upnp.mappings.map((m) => m.expiresAt ?? 0))
  // Past the first lease: only renewals can keep the mapping alive now.
  await waitUntil('two renewals', () => d.events.filter((e) => e.upnp.mappings.length === 2).length >= 2, 15_000)
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, firstExpiry + 1500 - Date.now())))
  const now: NatStatus = await d.call({ op: 'status' })
  assert.ok(Math.min(...now.upnp.mappings.map((m) => m.expiresAt ?? 0)) > firstExpiry, 'expiry moved forward')
  assert.deepEqual(tableFor(port), [`TCP ${port}->${HOME_IP}:${port}`, `UDP ${port}->${HOME_IP}:${port}`])
  assert.deepEqual(await reaches(port), { tcp: true, udp: true })
  await d.call({ op: 'close' })
  assert.deepEqual(tableFor(port), [])
}))

test('port change and network change: the mapping follows the port and the new address', (t) => withDriver(t, async (d) => {
  lab.startRouterDaemon({ upnp: true, natpmp: false, igdVersion: 2 })
  await d.call({ op: 'start', opts: options(41007, { stunServers: [], networkCheckMs: 200 }) })
  assert.equal(tableFor(41007).length, 2)

  const moved = await d.call({ op: 'setPort', port: 41008 })
  assert.equal(moved.listeningPort, 41008)
  assert.deepEqual(tableFor(41007), [], 'the old port is unmapped')
  assert.deepEqual(tableFor(41008), [`TCP 41008->${HOME_IP}:41008`, `UDP 41008->${HOME_IP}:41008`])

  const newHome = '192.168.77.11'
  const seen = d.events.length
  lab.setHomeAddress(newHome)
  const toNewHome = (): string[] => lab.upnpTable().filter((l) => l.endsWith(`->${newHome}:41008`)).sort()
  try {
    // Not just any 'changed' event after `seen`: one from the remap for 41008 could still arrive
    // then and name the old address's mapping (a CI run took it for the new one, table empty).
    const newHomePort = (): number | null => {
      const rows = toNewHome()
      return rows.length === 2 ? Number(/^TCP (\d+)->/.exec(rows[0]!)?.[1]) : null
    }
    await waitUntil("a 'changed' event naming the mapping to the new address", () => {
      const port = newHomePort()
      return port !== null && d.events.slice(seen).some((e) => e.upnp.mappings.length === 2 && e.upnp.mappings.every((m) => m.externalPort === port))
    }, 10_000)
    // The router keeps the stale mapping to the old address (secure mode forbids deleting another
    // host's), so the new one may have moved to another external port: the status must say which.
    const now: NatStatus = await d.call({ op: 'status' })
    const external = now.upnp.mappings[0]?.externalPort
    assert.deepEqual(toNewHome(), [`TCP ${external}->${newHome}:41008`, `UDP ${external}->${newHome}:41008`])
    assert.match(now.verdict, /^Reachable: port 41008 .*mapped by UPnP/)
    await d.call({ op: 'close' })
    assert.deepEqual(toNewHome(), [])
  } finally {
    lab.setHomeAddress(HOME_IP)
  }
}))
