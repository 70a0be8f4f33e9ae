// Access control for `shoal serve`: one random token per run. A request carries it in the query
// (the first page load), an Authorization header, or the cookie set on that first load.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { isIPv6 } from 'node:net'

export const TOKEN_COOKIE = 'shoal_token'

export function newToken (): string {
  return randomBytes(24).toString('base64url')
}

function sameToken (given: string, token: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

function cookieValue (header: string | undefined, name: string): string | null {
  if (!header) return null
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim())
  }
  return null
}

export type TokenSource = 'query' | 'header' | 'cookie'

/** Where the request's valid token came from, or null when it has none (refuse it). */
export function tokenSource (req: IncomingMessage, url: URL, token: string): TokenSource | null {
  const q = url.searchParams.get('token')
  if (q !== null && sameToken(q, token)) return 'query'
  const auth = req.headers.authorization
  if (auth?.startsWith('Bearer ') && sameToken(auth.slice(7), token)) return 'header'
  const c = cookieValue(req.headers.cookie, TOKEN_COOKIE)
  if (c !== null && sameToken(c, token)) return 'cookie'
  return null
}

export function tokenCookie (token: string): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1'])

export function isLoopbackHost (host: string): boolean {
  return LOOPBACK_NAMES.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host)
}

/**
 * A server bound to loopback answers only to loopback host names: a web page that rebinds its own
 * DNS name to 127.0.0.1 must not reach it, token or not.
 */
export function hostHeaderAllowed (req: IncomingMessage, boundToLoopback: boolean): boolean {
  if (!boundToLoopback) return true
  const host = req.headers.host
  if (!host) return false
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!
  return isLoopbackHost(name)
}

// ---------------------------------------------------------------- wrong-token lockout

export interface LockoutOptions {
  /** Wrong tokens a client may present before it is locked out. */
  freeFailures: number
  /** The first lockout; each further wrong token doubles it... */
  baseMs: number
  /** ...up to this. */
  maxMs: number
  /** A client's count is forgotten this long after its last wrong token. */
  forgetMs: number
  /** Clients remembered at most (the oldest are forgotten first): the table cannot grow without bound. */
  maxClients: number
}

export const DEFAULT_LOCKOUT: LockoutOptions = { freeFailures: 5, baseMs: 1000, maxMs: 60_000, forgetMs: 15 * 60_000, maxClients: 10_000 }

/**
 * Slows down token guessing: after `freeFailures` wrong tokens a client is locked out for baseMs,
 * doubling with each further wrong token up to maxMs. While locked out, every request of that
 * client is refused (429 + Retry-After) without looking at its token, so guesses made then are
 * worthless; a right token after the lockout clears the count.
 *
 * The trade-off: a client is its IP address, and on loopback every local process shares one, so a
 * local program sending wrong tokens can refuse *new* local connections for up to maxMs at a time.
 * What limits that: only requests that present a token count (a request with none is not a guess);
 * wrong tokens sent during a lockout do not count, so it cannot be stacked up in advance; an open
 * WebSocket (the running UI) is never touched; and requests a browser marks as coming from another
 * site (Sec-Fetch-Site, which pages cannot forge) have their own count, so a web page cannot lock
 * out the UI. The token has 192 random bits: this makes guessing slow and visible, it is not the
 * only defence.
 */
export class FailureLimiter {
  private readonly clients = new Map<string, { failures: number; lockedUntil: number; lastFailure: number }>()
  readonly o: LockoutOptions
  private readonly now: () => number
  constructor (o: Partial<LockoutOptions> = {}, now: () => number = Date.now) {
    this.o = { ...DEFAULT_LOCKOUT, ...o }
    this.now = now
  }

  private entry (key: string) {
    const e = this.clients.get(key)
    if (e && this.now() - e.lastFailure > this.o.forgetMs && this.now() >= e.lockedUntil) { this.clients.delete(key); return undefined }
    return e
  }

  /** Milliseconds this client stays locked out; 0 when it may try. */
  lockedFor (key: string): number {
    const e = this.entry(key)
    return e ? Math.max(0, e.lockedUntil - this.now()) : 0
  }

  failure (key: string): void {
    if (this.lockedFor(key) > 0) return
    const now = this.now()
    const e = this.entry(key) ?? { failures: 0, lockedUntil: 0, lastFailure: now }
    e.failures++
    e.lastFailure = now
    if (e.failures >= this.o.freeFailures) {
      e.lockedUntil = now + Math.min(this.o.maxMs, this.o.baseMs * 2 ** Math.min(30, e.failures - this.o.freeFailures))
    }
    this.clients.delete(key)
    this.clients.set(key, e)
    while (this.clients.size > this.o.maxClients) this.clients.delete(this.clients.keys().next().value!)
  }

  success (key: string): void {
    this.clients.delete(key)
  }
}

/** Whether the request presents any token at all (a wrong one is a guess; none is not). */
export function presentsToken (req: IncomingMessage, url: URL): boolean {
  return url.searchParams.has('token') || !!req.headers.authorization || cookieValue(req.headers.cookie, TOKEN_COOKIE) !== null
}

/** An IPv6 address's /64 (one host usually has a whole /64 to pick addresses from); IPv4 as it is. */
export function addressBucket (address: string): string {
  const a = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '')
  if (!isIPv6(a)) return a
  const [head = '', tail = ''] = a.split('%')[0]!.split('::')
  const h = head ? head.split(':') : []
  const t = a.includes('::') && tail ? tail.split(':') : []
  const groups = a.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h
  return groups.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16)).join(':') + '::/64'
}

/** Who is guessing: the peer's address (its /64 for IPv6), and whether a browser says another site sent the request. */
export function clientKey (req: IncomingMessage): string {
  const site = req.headers['sec-fetch-site']
  return `${addressBucket(req.socket.remoteAddress ?? '?')}|${site === 'cross-site' || site === 'same-site' ? 'other-site' : 'direct'}`
}
