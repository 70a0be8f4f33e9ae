// Access control for `shoal serve`: one random token per run. A request carries it in the query
// (the first page load), an Authorization header, or the cookie set on that first load.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

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
