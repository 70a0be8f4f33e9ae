// transmission-daemon 3.00 with its own config folder, loopback only (no DHT, LPD, PEX, uTP, port
// mapping), driven by transmission-remote on its own RPC port.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { waitFor } from '../../helpers/fixtures.ts'
import { freePort, runSync } from './procs.ts'
import type { Procs, Proc } from './procs.ts'

export class Transmission {
  proc!: Proc
  rpcPort = 0
  peerPort = 0

  static async start (procs: Procs, configDir: string, downloadDir: string): Promise<Transmission> {
    const tr = new Transmission()
    tr.rpcPort = await freePort()
    tr.peerPort = await freePort()
    mkdirSync(configDir, { recursive: true })
    mkdirSync(downloadDir, { recursive: true })
    writeFileSync(join(configDir, 'settings.json'), JSON.stringify({
      'dht-enabled': false,
      'lpd-enabled': false,
      'pex-enabled': false,
      'utp-enabled': false,
      'port-forwarding-enabled': false,
      'peer-port': tr.peerPort,
      'peer-port-random-on-start': false,
      'bind-address-ipv4': '127.0.0.1',
      'bind-address-ipv6': '::1',
      'rpc-bind-address': '127.0.0.1',
      'rpc-port': tr.rpcPort,
      'rpc-whitelist': '127.0.0.1',
      'rpc-whitelist-enabled': true,
      'rpc-host-whitelist-enabled': false,
      'rpc-authentication-required': false,
      'download-dir': downloadDir,
      'incomplete-dir-enabled': false,
      'watch-dir-enabled': false,
      'blocklist-enabled': false,
      'encryption': 1,
      'start-added-torrents': true,
      'ratio-limit-enabled': false,
      'idle-seeding-limit-enabled': false,
      'download-queue-enabled': false,
      'seed-queue-enabled': false,
      'message-level': 1
    }, null, 2))
    tr.proc = procs.start('transmission-daemon', 'transmission-daemon', ['-f', '-g', configDir, '-T', '-O', '-Y', '-M', '--no-utp',
      '-p', String(tr.rpcPort), '-P', String(tr.peerPort), '-w', downloadDir])
    const exited = tr.proc.exited.then((c) => { throw new Error(`transmission-daemon exited (${c}):\n${tr.proc.output()}`) })
    await Promise.race([exited, waitFor('transmission-daemon RPC', () => tr.remote(['-l']).status === 0, 30000, 250)])
    exited.catch(() => { /* reported by the waits that follow */ })
    return tr
  }

  remote (args: string[]): { status: number | null; out: string } {
    return runSync('transmission-remote', [`127.0.0.1:${this.rpcPort}`, ...args], 15000)
  }

  add (torrentFile: string, downloadDir: string): void {
    const r = this.remote(['-a', torrentFile, '-w', downloadDir])
    if (r.status !== 0 || !/success/.test(r.out)) throw new Error(`transmission-remote -a failed: ${r.out}`)
  }

  /** Percent done (0-100) and state of the one torrent, from `transmission-remote -t 1 -i`. */
  info (): { percent: number; state: string; out: string } {
    const r = this.remote(['-t', '1', '-i'])
    const percent = Number(/Percent Done:\s*([\d.]+)%/.exec(r.out)?.[1] ?? NaN)
    const state = /State:\s*(.+)/.exec(r.out)?.[1]?.trim() ?? ''
    return { percent, state, out: r.out }
  }
}
