// Seeded randomness for fuzz and fault tests, so a failing run can be repeated from its seed.

/** mulberry32: a small seeded PRNG. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Draws from one seeded stream; `alphabet` is what str() picks from unless told otherwise. */
export class Gen {
  readonly r: () => number
  private readonly alphabet: string
  constructor (seed: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-_.') {
    this.r = prng(seed)
    this.alphabet = alphabet
  }

  int (n: number): number { return Math.floor(this.r() * n) }
  range (lo: number, hi: number): number { return lo + this.int(hi - lo + 1) }
  pick<T> (xs: readonly T[]): T { return xs[this.int(xs.length)]! }
  chance (p: number): boolean { return this.r() < p }
  bytes (n: number): Buffer { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = this.int(256); return b }
  str (n: number, alphabet = this.alphabet): string {
    let s = ''
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)]
    return s
  }
}
