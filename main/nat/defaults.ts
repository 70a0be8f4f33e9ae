/**
 * Public STUN servers for Settings.stunServers. The first answers RFC 5780 behaviour tests
 * (OTHER-ADDRESS, CHANGE-REQUEST); the big providers only tell the public address, which still
 * lets NAT detection compare the mapping across two destinations.
 */
export const DEFAULT_STUN_SERVERS: readonly string[] = [
  'stun.stunprotocol.org:3478',
  'stun.l.google.com:19302',
  'stun.cloudflare.com:3478'
]

/** Settings.port's usual value, and what `shoal nat` maps when given no --port. */
export const DEFAULT_PORT = 51413

/** Lease asked of the router; renewed at half-life, so a crashed app's mapping goes away within the hour. */
export const DEFAULT_LEASE_SECONDS = 3600
