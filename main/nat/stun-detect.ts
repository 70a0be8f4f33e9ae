// NAT behaviour discovery over UDP (RFC 5780 sections 4.3 and 4.4) and the classic RFC 3489 name.
// The procedure is hand-written because no maintained npm package runs it; `stun` does the messages.
import { lookup } from 'node:dns/promises'
import { networkInterfaces } from 'node:os'
import type { NatMapping, NatType } from '../contract/contract.ts'
import { formatEndpoint, parseHostPort, sameEndpoint, type Endpoint } from './addresses.ts'
import { DEFAULT_TIMING, StunSocket, type BindingReply, type TransactionTiming } from './stun-client.ts'

export interface NatBehaviour {
  mapping: NatMapping
  filtering: NatMapping
  type: NatType
  /** Our public IPv4 address as the STUN server saw it. */
  publicAddress: string | null
  /** Our public address and port for the first test (the raw observation). */
  publicEndpoint: string | null
  /** The server the behaviour tests ran against, "host:port". */
  server: string | null
  /** Whether that server supports RFC 5780 (gave an OTHER-ADDRESS). */
  rfc5780: boolean
  /** A sentence for the user when something could not be known; null when everything was. */
  error: string | null
}

export interface DetectOptions {
  /** "host" or "host:port", in order of preference. */
  servers: string[]
  timing?: TransactionTiming
}

interface Server { name: string; endpoint: Endpoint }

const UNKNOWN: Omit<NatBehaviour, 'error'> = {
  mapping: 'unknown', filtering: 'unknown', type: 'unknown', publicAddress: null, publicEndpoint: null, server: null, rfc5780: false
}

export async function detectNatBehaviour (opts: DetectOptions): Promise<NatBehaviour> {
  const timing = opts.timing ?? DEFAULT_TIMING
  if (opts.servers.length === 0) return { ...UNKNOWN, error: 'No STUN server configured: the NAT type cannot be tested.' }
  const { servers, unresolved } = await resolveServers(opts.servers)
  if (servers.length === 0) {
    return { ...UNKNOWN, error: `No STUN server could be found by name (${unresolved.join(', ')}): no network or DNS.` }
  }

  // Test I against every server from one socket: the first server with RFC 5780 runs the
  // behaviour tests; the others still show whether the mapping depends on the destination.
  const s1 = await StunSocket.open()
  try {
    const first = await Promise.all(servers.map((s) => s1.binding(s.endpoint, {}, timing)))
    const answered = servers.map((server, i) => ({ server, reply: first[i] ?? null }))
      .filter((a): a is { server: Server; reply: BindingReply } => a.reply?.mapped != null)
    if (answered.length === 0) return await diagnoseSilence(servers, timing)

    const primary = answered.find((a) => a.reply.other) ?? answered[0]!
    const mapped = primary.reply.mapped!
    const base = {
      publicAddress: mapped.address,
      publicEndpoint: formatEndpoint(mapped),
      server: primary.server.name,
      rfc5780: primary.reply.other !== null
    }
    const behindNoNat = isLocalAddress(mapped.address) && mapped.port === s1.localPort

    if (!primary.reply.other) {
      const mapping = mappingFromSeveralServers(answered)
      return {
        ...base,
        mapping: behindNoNat ? 'endpoint-independent' : mapping,
        filtering: 'unknown',
        type: behindNoNat ? 'open' : (mapping === 'endpoint-independent' || mapping === 'unknown' ? 'unknown' : 'symmetric'),
        error: `${primary.server.name} does not support RFC 5780 (no OTHER-ADDRESS): ` +
          (answered.length > 1 && mapping !== 'unknown'
            ? `mapping compared across ${answered.length} servers only; filtering unknown.`
            : 'mapping and filtering unknown; configure a STUN server with RFC 5780 support.')
      }
    }

    const other = primary.reply.other
    const mappingResult = await testMapping(s1, primary.server.endpoint, other, mapped, timing)
    const filteringResult = await testFiltering(primary.server.endpoint, other, timing)
    const mapping = behindNoNat ? 'endpoint-independent' : mappingResult.mapping
    const filtering = filteringResult.filtering
    return {
      ...base,
      mapping,
      filtering,
      type: classicName(mapping, filtering, behindNoNat),
      error: [mappingResult.error, filteringResult.error].filter(Boolean).join(' ') || null
    }
  } finally {
    s1.close()
  }
}

/** RFC 5780 4.3: does the public mapping change with the destination's address, or its port? */
async function testMapping (socket: StunSocket, primary: Endpoint, other: Endpoint, mapped: Endpoint, timing: TransactionTiming):
Promise<{ mapping: NatMapping; error: string | null }> {
  const [altIp, altIpPort] = await Promise.all([
    socket.binding({ address: other.address, port: primary.port }, {}, timing),
    socket.binding(other, {}, timing)
  ])
  if (!altIp?.mapped || !altIpPort?.mapped) {
    return { mapping: 'unknown', error: `The STUN server's alternate address ${formatEndpoint(other)} did not answer: mapping unknown.` }
  }
  if (sameEndpoint(altIp.mapped, mapped)) return { mapping: 'endpoint-independent', error: null }
  if (sameEndpoint(altIpPort.mapped, altIp.mapped)) return { mapping: 'address-dependent', error: null }
  return { mapping: 'address-and-port-dependent', error: null }
}

/** RFC 5780 4.4: which unsolicited replies does the NAT let in? A fresh socket, so the mapping tests opened nothing. */
async function testFiltering (primary: Endpoint, other: Endpoint, timing: TransactionTiming):
Promise<{ filtering: NatMapping; error: string | null }> {
  const socket = await StunSocket.open()
  try {
    if (!(await socket.binding(primary, {}, timing))) {
      return { filtering: 'unknown', error: 'The STUN server stopped answering: filtering unknown.' }
    }
    const [fromOtherIpPort, fromOtherPort] = await Promise.all([
      socket.binding(primary, { ip: true, port: true }, timing),
      socket.binding(primary, { port: true }, timing)
    ])
    // A server that ignores CHANGE-REQUEST answers from its primary address; that proves nothing.
    if ((fromOtherIpPort && sameEndpoint(fromOtherIpPort.source, primary)) || (fromOtherPort && sameEndpoint(fromOtherPort.source, primary))) {
      return { filtering: 'unknown', error: 'The STUN server ignores CHANGE-REQUEST: filtering unknown.' }
    }
    if (fromOtherIpPort) return { filtering: 'endpoint-independent', error: null }
    if (fromOtherPort) return { filtering: 'address-dependent', error: null }
    return { filtering: 'address-and-port-dependent', error: null }
  } finally {
    socket.close()
  }
}

export function classicName (mapping: NatMapping, filtering: NatMapping, noNat = false): NatType {
  if (noNat) return filtering === 'endpoint-independent' ? 'open' : filtering === 'unknown' ? 'unknown' : 'port-restricted-cone'
  if (mapping === 'address-dependent' || mapping === 'address-and-port-dependent') return 'symmetric'
  if (mapping === 'unknown') return 'unknown'
  switch (filtering) {
    case 'endpoint-independent': return 'full-cone'
    case 'address-dependent': return 'restricted-cone'
    case 'address-and-port-dependent': return 'port-restricted-cone'
    default: return 'unknown'
  }
}

/** Without RFC 5780, servers at different addresses still show whether the mapping is per destination. */
function mappingFromSeveralServers (answered: Array<{ server: Server; reply: BindingReply }>): NatMapping {
  const [a, ...rest] = answered
  const b = rest.find((x) => x.server.endpoint.address !== a!.server.endpoint.address)
  if (!a || !b) return 'unknown'
  // Different public ports for two destinations: symmetric, but which of the two dependent kinds is not knowable here.
  return sameEndpoint(a.reply.mapped, b.reply.mapped) ? 'endpoint-independent' : 'address-and-port-dependent'
}

/** Nobody answered test I: tell "server down" (ICMP port unreachable) apart from silence (UDP blocked or dropped). */
async function diagnoseSilence (servers: Server[], timing: TransactionTiming): Promise<NatBehaviour> {
  const refused: string[] = []
  for (const s of servers) {
    const socket = await StunSocket.open(s.endpoint)
    try {
      await socket.binding(s.endpoint, {}, { rtoMs: timing.rtoMs, deadlineMs: Math.min(timing.deadlineMs, 1000) })
      if (socket.refused) refused.push(s.name)
    } finally {
      socket.close()
    }
  }
  const names = servers.map((s) => s.name).join(', ')
  if (refused.length > 0) {
    return { ...UNKNOWN, error: `STUN server ${refused.join(', ')} refused the request (nothing listens there: server down); NAT type unknown.` }
  }
  const distinct = new Set(servers.map((s) => s.endpoint.address)).size
  if (distinct >= 2) {
    return { ...UNKNOWN, type: 'udp-blocked', error: `No answer from any of ${servers.length} STUN servers (${names}): outgoing UDP is blocked.` }
  }
  return { ...UNKNOWN, error: `No answer from STUN server ${names}: UDP is blocked or the server is down (add a second server to tell which).` }
}

async function resolveServers (names: string[]): Promise<{ servers: Server[]; unresolved: string[] }> {
  const servers: Server[] = []
  const unresolved: string[] = []
  for (const name of names) {
    const hp = parseHostPort(name)
    try {
      const { address } = await lookup(hp.address, { family: 4 })
      servers.push({ name: formatEndpoint(hp), endpoint: { address, port: hp.port } })
    } catch {
      unresolved.push(name)
    }
  }
  return { servers, unresolved }
}

function isLocalAddress (address: string): boolean {
  return Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === address))
}
