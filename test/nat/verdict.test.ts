// The pure parts: the one-line verdict from facts, the classic NAT names, address and server parsing.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { NatMapping, NatType, PortMapping } from '../../main/contract/contract.ts'
import { isGlobalIPv4, parseHostPort } from '../../main/nat/addresses.ts'
import { classicName } from '../../main/nat/stun-detect.ts'
import { verdictOf, type NatFacts } from '../../main/nat/verdict.ts'

function facts (over: { type?: NatType; upnpWan?: string | null; publicAddress?: string | null; mapped?: PortMapping['method']; upnpAvailable?: boolean; upnpEnabled?: boolean; natError?: string }): NatFacts {
  const port = 51413
  const mappings: PortMapping[] = over.mapped
    ? (['TCP', 'UDP'] as const).map((protocol) => ({ protocol, internalPort: port, externalPort: port, method: over.mapped!, expiresAt: null }))
    : []
  return {
    listeningPort: port,
    upnpEnabled: over.upnpEnabled ?? true,
    upnp: { available: over.upnpAvailable ?? over.mapped === 'upnp', igdVersion: 2, externalAddress: over.upnpWan ?? null, mappings, error: null },
    natpmp: { available: over.mapped === 'natpmp', externalAddress: null },
    nat: { mapping: 'unknown', filtering: 'unknown', type: over.type ?? 'unknown', publicAddress: over.publicAddress ?? null, server: null, error: over.natError ?? null }
  }
}

test('verdict: a port mapped by UPnP on a router with a public WAN address is reachable', () => {
  const v = verdictOf(facts({ mapped: 'upnp', upnpWan: '198.20.1.1', publicAddress: '198.20.1.1', type: 'port-restricted-cone' }))
  assert.deepEqual(v, { verdict: 'Reachable: port 51413 mapped by UPnP', reachable: true })
})

test('verdict: NAT-PMP mapping is named as such', () => {
  assert.equal(verdictOf(facts({ mapped: 'natpmp', publicAddress: '198.20.1.1' })).verdict, 'Reachable: port 51413 mapped by NAT-PMP')
})

test('verdict: symmetric NAT without mapping means outgoing only', () => {
  assert.deepEqual(verdictOf(facts({ type: 'symmetric', publicAddress: '198.20.1.1' })),
    { verdict: 'Behind symmetric NAT: incoming connections impossible, outgoing only', reachable: false })
})

test('verdict: a private router WAN address is double NAT, even with a mapping', () => {
  const v = verdictOf(facts({ mapped: 'upnp', upnpWan: '100.64.0.1', publicAddress: '198.20.0.1' }))
  assert.equal(v.reachable, false)
  assert.match(v.verdict, /^Double NAT: the router's WAN address 100\.64\.0\.1 is private/)
})

test('verdict: a router that withholds its WAN address while STUN reaches the internet is double NAT', () => {
  const v = verdictOf(facts({ upnpAvailable: true, upnpWan: null, publicAddress: '198.20.0.1', type: 'port-restricted-cone' }))
  assert.match(v.verdict, /^Double NAT: the router's WAN address is private/)
})

test('verdict: router WAN address differing from the STUN public address is double NAT', () => {
  const v = verdictOf(facts({ mapped: 'upnp', upnpWan: '198.20.1.1', publicAddress: '198.20.0.1' }))
  assert.match(v.verdict, /^Double NAT/)
  assert.equal(v.reachable, false)
})

test('verdict: cone NATs without mapping say why nothing was mapped', () => {
  assert.match(verdictOf(facts({ type: 'port-restricted-cone', publicAddress: '198.20.1.1' })).verdict,
    /^Not reachable: port-restricted cone NAT and the router offers no UPnP or NAT-PMP/)
  assert.match(verdictOf(facts({ type: 'restricted-cone', upnpEnabled: false })).verdict, /^Not reachable: restricted cone NAT and port mapping is off in settings/)
  const full = verdictOf(facts({ type: 'full-cone' }))
  assert.equal(full.reachable, null)
  assert.match(full.verdict, /full-cone NAT/)
})

test('verdict: blocked UDP and unknown NAT say so', () => {
  assert.match(verdictOf(facts({ type: 'udp-blocked' })).verdict, /^UDP blocked/)
  const unknown = verdictOf(facts({ natError: 'No answer from STUN server x' }))
  assert.equal(unknown.reachable, null)
  assert.match(unknown.verdict, /^Reachability unknown: .*No answer from STUN server x/)
  assert.deepEqual(verdictOf(facts({ type: 'open', publicAddress: '198.20.1.1' })), { verdict: 'Reachable: no NAT, public address 198.20.1.1', reachable: true })
})

test('classic names from RFC 5780 behaviour', () => {
  const cases: Array<[NatMapping, NatMapping, NatType]> = [
    ['endpoint-independent', 'endpoint-independent', 'full-cone'],
    ['endpoint-independent', 'address-dependent', 'restricted-cone'],
    ['endpoint-independent', 'address-and-port-dependent', 'port-restricted-cone'],
    ['address-dependent', 'address-and-port-dependent', 'symmetric'],
    ['address-and-port-dependent', 'endpoint-independent', 'symmetric'],
    ['endpoint-independent', 'unknown', 'unknown'],
    ['unknown', 'unknown', 'unknown']
  ]
  for (const [m, f, t] of cases) assert.equal(classicName(m, f), t, `${m} + ${f}`)
  assert.equal(classicName('endpoint-independent', 'endpoint-independent', true), 'open')
})

test('public, private and reserved IPv4 addresses', () => {
  for (const a of ['198.20.1.1', '8.8.8.8', '1.1.1.1']) assert.equal(isGlobalIPv4(a), true, a)
  for (const a of ['10.1.2.3', '172.16.0.1', '192.168.1.1', '100.64.0.1', '169.254.1.1', '203.0.113.1', '198.18.0.1', '127.0.0.1', '0.0.0.0', '::1', 'x']) {
    assert.equal(isGlobalIPv4(a), false, a)
  }
})

test('STUN server strings', () => {
  assert.deepEqual(parseHostPort('stun.example.org'), { address: 'stun.example.org', port: 3478 })
  assert.deepEqual(parseHostPort('198.20.0.10:3479'), { address: '198.20.0.10', port: 3479 })
  assert.throws(() => parseHostPort('a b'), /HOST or HOST:PORT/)
  assert.throws(() => parseHostPort('host:70000'), /HOST or HOST:PORT/)
})
