// Fast Diffie-Hellman for the MSE/PE handshake (BitTorrent protocol encryption).
//
// bittorrent-protocol makes a new crypto.createDiffieHellman(P, 2) for every encrypted connection.
// With a custom prime, Node (OpenSSL 3) checks the prime on every construction: about 20 ms of
// main-thread CPU per connection on an idle 2-core machine, and much more under load. With peers
// coming and going this showed up as most of the engine's CPU and event-loop stalls of hundreds of
// milliseconds (test/reliability/churn.test.ts). The prime is fixed by the MSE spec and well known,
// so there is nothing to check: this does the same exchange with BigInt (a 160-bit private
// exponent, as the spec and other clients use), in well under a millisecond.
//
// Installed once, on the prototype of bittorrent-protocol's MessageStreamEncryptor (reached through
// a throwaway Wire: the package exports only the Wire; mseEncryptorClass).
import { randomBytes } from 'node:crypto'
import Wire from 'bittorrent-protocol'

const P = BigInt('0xffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a63a36210000000000090563')
const G = 2n
const BYTES = 96

function modPow (base: bigint, exp: bigint, mod: bigint): bigint {
  let r = 1n
  let b = base % mod
  let e = exp
  while (e > 0n) {
    if (e & 1n) r = (r * b) % mod
    e >>= 1n
    b = (b * b) % mod
  }
  return r
}

function toBytes (n: bigint): Buffer {
  return Buffer.from(n.toString(16).padStart(BYTES * 2, '0'), 'hex')
}

/** The two methods of crypto.DiffieHellman that MSE uses, with the same results (96-byte big-endian). */
export class MseDiffieHellman {
  private x = 0n
  generateKeys (): Buffer {
    // Never 0: a 160-bit random exponent with the top bit set.
    this.x = BigInt('0x' + randomBytes(20).toString('hex')) | (1n << 159n)
    return toBytes(modPow(G, this.x, P))
  }

  computeSecret (other: Uint8Array): Buffer {
    if (this.x === 0n) this.generateKeys()
    const y = BigInt('0x' + (Buffer.from(other).toString('hex') || '0'))
    // As OpenSSL refuses them: 0, 1, P-1 and anything >= P give a secret an attacker knows.
    if (y <= 1n || y >= P - 1n) throw new Error('MSE: invalid Diffie-Hellman public key')
    return toBytes(modPow(y, this.x, P))
  }
}

export const MSE_PRIME = P

/** bittorrent-protocol's MessageStreamEncryptor class, reached through a throwaway Wire; null if a Wire has none. */
export function mseEncryptorClass (): (new (skeyHex?: string) => object) | null {
  const probe = new Wire('probe', 1) as unknown as { _encryptor: object | null; destroy(): void }
  const ctor = probe._encryptor ? probe._encryptor.constructor as new (skeyHex?: string) => object : null
  probe.destroy()
  return ctor
}

let installed = false
/** Replaces the per-connection createDiffieHellman of bittorrent-protocol's MSE; idempotent. */
export function installFastMseDh (): boolean {
  if (installed) return true
  const proto = (mseEncryptorClass()?.prototype ?? null) as object | null
  if (!proto || !Object.getOwnPropertyDescriptor(proto, 'dh')?.get) return false
  Object.defineProperty(proto, 'dh', {
    configurable: true,
    get (this: { _dh: MseDiffieHellman | null }) {
      if (!this._dh) this._dh = new MseDiffieHellman()
      return this._dh
    }
  })
  installed = true
  return true
}
