// utp-native, typed as the tests use it (it ships no types): the build Shoal's install made.
import { createRequire } from 'node:module'
import type { Duplex } from 'node:stream'

export interface UtpServer {
  listen: (port: number, host: string, cb: () => void) => void
  address: () => { port: number }
  close: (cb?: () => void) => void
  on: ((ev: 'connection', cb: (c: Duplex) => void) => void) & ((ev: 'message', cb: (datagram: Buffer) => void) => void)
}
export interface UtpModule { createServer: () => UtpServer; connect: (port: number, host: string) => Duplex }

export const utp = createRequire(import.meta.url)('utp-native') as UtpModule
