import type { NatStatus, PortMapping } from '../../contract/contract.ts'
import { EngineError } from '../../engine/errors.ts'
import { parseHostPort } from '../../nat/addresses.ts'
import { DEFAULT_PORT, DEFAULT_STUN_SERVERS } from '../../nat/defaults.ts'
import { NatService } from '../../nat/nat-service.ts'
import type { NatBehaviour } from '../../nat/stun-detect.ts'
import { parse, portOption } from '../args.ts'

export const summary = 'show port mapping, NAT type and reachability'
const HELP = `usage: shoal nat [--json] [--stun HOST[:PORT]]... [--port N] [--no-upnp] [--gateway IP]

Maps --port (default ${DEFAULT_PORT}) on the router for TCP and UDP with UPnP IGD, or NAT-PMP when
the router has no UPnP, tests the NAT's mapping and filtering behaviour with STUN (RFC 5780),
prints a one-line verdict with the facts, then removes the mapping again.

  --json          one JSON object: the NatStatus (verdict, upnp, natpmp, nat) plus stun details
  --stun S        STUN server to use, repeatable (default: ${DEFAULT_STUN_SERVERS.join(', ')})
  --port N        the port to test-map (the app maps its listening port itself)
  --no-upnp       skip port mapping, only detect the NAT
  --gateway IP    NAT-PMP gateway (default: the default route's gateway)`

export async function run (argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    json: { type: 'boolean' }, stun: { type: 'string', multiple: true }, port: { type: 'string' },
    'no-upnp': { type: 'boolean' }, gateway: { type: 'string' }
  }, false)
  if (values.help) { console.log(HELP); return 0 }
  const port = portOption(values.port) ?? DEFAULT_PORT
  if (port === 0) throw new EngineError('BAD_ARGUMENT', '--port must be from 1 to 65535 to be mapped')
  const stunServers = values.stun ?? [...DEFAULT_STUN_SERVERS]
  for (const s of stunServers) parseHostPort(s) // a clear error before any network traffic

  const service = new NatService({
    port, stunServers, upnp: !values['no-upnp'], networkCheckMs: 0, ...(values.gateway ? { gateway: values.gateway } : {})
  })
  let status: NatStatus
  try {
    status = await service.start()
  } finally {
    await service.close()
  }
  const stun = service.behaviourDetail()
  if (values.json) {
    console.log(JSON.stringify({ ...status, stun: stun && { server: stun.server, rfc5780: stun.rfc5780, publicEndpoint: stun.publicEndpoint } }, null, 2))
  } else {
    console.log(describe(status, stun, !values['no-upnp']))
  }
  return 0
}

function describe (s: NatStatus, stun: NatBehaviour | null, mapped: boolean): string {
  const row = (k: string, v: string): string => `  ${k.padEnd(15)} ${v}`
  const lines = [s.verdict, row('port', String(s.listeningPort))]
  lines.push(row('UPnP IGD', !mapped ? 'not used (--no-upnp)'
    : s.upnp.available ? `version ${s.upnp.igdVersion ?? '?'}, WAN address ${s.upnp.externalAddress ?? 'none reported'}` : 'not found'))
  lines.push(row('NAT-PMP', s.natpmp.available ? `WAN address ${s.natpmp.externalAddress ?? '?'}` : 'not found'))
  if (s.upnp.mappings.length) lines.push(row('mapped', s.upnp.mappings.map(mappingText).join(', ')))
  if (s.upnp.error) lines.push(row('mapping error', s.upnp.error))
  lines.push(row('NAT type', `${s.nat.type} (mapping ${s.nat.mapping}, filtering ${s.nat.filtering})`))
  lines.push(row('public address', stun?.publicEndpoint ?? s.nat.publicAddress ?? 'unknown'))
  if (s.nat.server) lines.push(row('STUN server', `${s.nat.server}${stun?.rfc5780 ? ' (RFC 5780)' : ' (no RFC 5780)'}`))
  if (s.nat.error) lines.push(row('STUN', s.nat.error))
  if (s.upnp.mappings.length) lines.push('(shoal nat removed its test mapping on exit; the app keeps its own while it runs)')
  return lines.join('\n')
}

function mappingText (m: PortMapping): string {
  const method = m.method === 'upnp' ? 'UPnP' : 'NAT-PMP'
  const lease = m.expiresAt === null ? 'permanent' : `lease ${Math.round((m.expiresAt - Date.now()) / 1000)} s`
  return `${m.protocol} ${m.externalPort}->${m.internalPort} (${method}, ${lease})`
}
