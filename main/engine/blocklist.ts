// IP blocklists: the text formats load-ip-set reads (P2P/PeerGuardian "description:1.2.3.4-1.2.3.9",
// plain "1.2.3.4-1.2.3.9", single addresses, CIDR blocks; IPv4 and IPv6; '#' comments), optionally
// gzipped. Unlike load-ip-set, a line that is none of these is an error with its line number, not
// silently skipped: a blocklist that does not block what the user thinks is worse than none.
import { readFile } from 'node:fs/promises'
import { isIPv4, isIPv6 } from 'node:net'
import { EngineError, fromFsError } from './errors.ts'

/** Largest blocklist accepted once decompressed (the big public lists are about 20 MiB). */
const MAX_TEXT_BYTES = 256 * 1024 * 1024

/** Sorted, merged, inclusive ranges; lookups by binary search. */
class Ranges<N extends number | bigint> {
  private readonly starts: N[] = []
  private readonly ends: N[] = []
  /** `next(a, b)`: whether b is at most one past a (ranges that touch are merged). */
  constructor (pairs: Array<[N, N]>, next: (a: N, b: N) => boolean) {
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    for (const [s, e] of pairs) {
      const last = this.ends.length - 1
      if (last >= 0 && next(this.ends[last]!, s)) {
        if (e > this.ends[last]!) this.ends[last] = e
      } else {
        this.starts.push(s)
        this.ends.push(e)
      }
    }
  }

  get size (): number { return this.starts.length }

  has (n: N): boolean {
    let lo = 0
    let hi = this.starts.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (n < this.starts[mid]!) hi = mid - 1
      else if (n > this.ends[mid]!) lo = mid + 1
      else return true
    }
    return false
  }
}

export class IpBlocklist {
  private readonly v4: Ranges<number>
  private readonly v6: Ranges<bigint>
  constructor (v4: Array<[number, number]>, v6: Array<[bigint, bigint]>) {
    this.v4 = new Ranges(v4, (a, b) => b <= a + 1)
    this.v6 = new Ranges(v6, (a, b) => b <= a + 1n)
  }

  /** Merged ranges held. */
  get size (): number { return this.v4.size + this.v6.size }

  contains (address: string): boolean {
    const a = normalizeIp(address)
    if (isIPv4(a)) return this.v4.has(v4ToNumber(a))
    if (isIPv6(a)) return this.v6.has(v6ToBigInt(a))
    return false
  }
}

/** "::ffff:1.2.3.4" (an IPv4 peer on a dual-stack socket) is 1.2.3.4. */
export function normalizeIp (address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  return m ? m[1]! : address
}

function v4ToNumber (ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0)
}

function v6ToBigInt (ip: string): bigint {
  let s = ip.toLowerCase()
  const zone = s.indexOf('%')
  if (zone >= 0) s = s.slice(0, zone)
  // A trailing dotted quad is the last 32 bits.
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(s)
  if (quad) {
    const n = v4ToNumber(quad[1]!)
    s = s.slice(0, -quad[1]!.length) + ((n >>> 16).toString(16)) + ':' + ((n & 0xffff).toString(16))
  }
  const [head, tail] = s.includes('::') ? s.split('::') as [string, string] : [s, null]
  const h = head ? head.split(':') : []
  const t = tail === null ? [] : (tail ? tail.split(':') : [])
  const groups = tail === null ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t]
  return groups.reduce((n, g) => (n << 16n) + BigInt(parseInt(g || '0', 16)), 0n)
}

type Entry = { v4: [number, number] } | { v6: [bigint, bigint] }

/** One entry without a description: "a-b", "a/len" or "a"; null if it is none of those. */
function parseEntry (text: string): Entry | null {
  const s = text.trim()
  const range = /^([0-9a-f.:]+)\s*-\s*([0-9a-f.:]+)$/i.exec(s)
  if (range) {
    const [a, b] = [range[1]!, range[2]!]
    if (isIPv4(a) && isIPv4(b)) {
      const [x, y] = [v4ToNumber(a), v4ToNumber(b)]
      return x <= y ? { v4: [x, y] } : null
    }
    if (isIPv6(a) && isIPv6(b)) {
      const [x, y] = [v6ToBigInt(a), v6ToBigInt(b)]
      return x <= y ? { v6: [x, y] } : null
    }
    return null
  }
  const cidr = /^([0-9a-f.:]+)\/(\d{1,3})$/i.exec(s)
  if (cidr) {
    const [a, bits] = [cidr[1]!, Number(cidr[2])]
    if (isIPv4(a) && bits <= 32) {
      const size = 2 ** (32 - bits)
      const start = Math.floor(v4ToNumber(a) / size) * size
      return { v4: [start, start + size - 1] }
    }
    if (isIPv6(a) && bits <= 128) {
      const size = 1n << BigInt(128 - bits)
      const start = (v6ToBigInt(a) / size) * size
      return { v6: [start, start + size - 1n] }
    }
    return null
  }
  if (isIPv4(s)) { const n = v4ToNumber(s); return { v4: [n, n] } }
  if (isIPv6(s)) { const n = v6ToBigInt(s); return { v6: [n, n] } }
  return null
}

/** A line with an optional "description:" before the entry (the description may itself hold colons). */
function parseLine (line: string): Entry | null {
  const whole = parseEntry(line)
  if (whole) return whole
  for (let i = line.indexOf(':'); i >= 0; i = line.indexOf(':', i + 1)) {
    const e = parseEntry(line.slice(i + 1))
    if (e) return e
  }
  return null
}

/** Parses blocklist text; `source` names it in errors. */
export function parseBlocklist (text: string, source: string): IpBlocklist {
  const v4: Array<[number, number]> = []
  const v6: Array<[bigint, bigint]> = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (!line || line.startsWith('#') || line.startsWith('//')) continue
    const e = parseLine(line)
    if (!e) {
      const shown = line.length > 60 ? `${line.slice(0, 60)}…` : line
      throw new EngineError('BAD_ARGUMENT', `${source} is not a blocklist Shoal can read: line ${i + 1} ("${shown.replace(/[^\x20-\x7e]/g, '?')}") is not an IP address, range or CIDR block.`)
    }
    if ('v4' in e) v4.push(e.v4)
    else v6.push(e.v6)
  }
  if (!v4.length && !v6.length) throw new EngineError('BAD_ARGUMENT', `${source} holds no IP ranges: it is empty or only comments.`)
  return new IpBlocklist(v4, v6)
}

/** Reads a blocklist file (gzip recognised by its magic bytes, whatever its name). */
export async function loadBlocklist (path: string): Promise<IpBlocklist> {
  let bytes: Buffer
  try { bytes = await readFile(path) } catch (err) { throw fromFsError(err, path, 'reading the blocklist') }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    // zlib loaded only here: most processes never read a gzipped blocklist (and it is memory in each).
    const { gunzipSync } = await import('node:zlib')
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: MAX_TEXT_BYTES })
    } catch (err) {
      throw new EngineError('BAD_ARGUMENT', `${path} looks gzipped but could not be decompressed: ${(err as Error).message}`, { cause: err })
    }
  }
  if (bytes.length > MAX_TEXT_BYTES) throw new EngineError('BAD_ARGUMENT', `${path} is larger than ${MAX_TEXT_BYTES >> 20} MiB; that is not a blocklist.`)
  if (bytes.includes(0)) throw new EngineError('BAD_ARGUMENT', `${path} is a binary file, not a text blocklist (P2P "name:1.2.3.4-1.2.3.9" lines, ranges or CIDR blocks, optionally gzipped).`)
  return parseBlocklist(bytes.toString('utf8'), path)
}
