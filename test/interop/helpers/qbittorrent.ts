// qbittorrent-nox in a throwaway profile, loopback only (no DHT, LSD, PEX, UPnP/NAT-PMP, trackers
// added), driven by its Web API v2 on 127.0.0.1 with localhost auth off.
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs'
import { join, basename } from 'node:path'
import { waitFor } from '../../helpers/fixtures.ts'
import { freePort } from './procs.ts'
import type { Procs, Proc } from './procs.ts'

export interface QbitTorrent { hash: string; progress: number; state: string }

/** qBittorrent's own three settings (`Session\Encryption` 0, 1, 2); it is "allow" out of the box. */
export type QbitEncryption = 'allow' | 'require' | 'disable'
const ENCRYPTION_SETTING: Record<QbitEncryption, number> = { allow: 0, require: 1, disable: 2 }

/** Which transports qBittorrent listens on and dials (`Session\BTProtocol`). */
export type QbitTransport = 'tcp' | 'utp' | 'both'
const TRANSPORT_SETTING: Record<QbitTransport, string> = { tcp: 'TCP', utp: 'UTP', both: 'Both' }

/** How a connection's payload travels: RC4-encrypted, or in the clear (possibly after an encrypted handshake). */
export type Cipher = 'rc4' | 'plain'

export class Qbit {
  proc!: Proc
  base = ''
  peerPort = 0

  static async start (procs: Procs, profile: string, encryption: QbitEncryption = 'allow', transport: QbitTransport = 'tcp'): Promise<Qbit> {
    const q = new Qbit()
    const webPort = await freePort()
    q.peerPort = await freePort()
    q.base = `http://127.0.0.1:${webPort}`
    const confDir = join(profile, 'qBittorrent', 'config')
    mkdirSync(confDir, { recursive: true })
    writeFileSync(join(confDir, 'qBittorrent.conf'), [
      '[LegalNotice]', 'Accepted=true', '',
      '[BitTorrent]',
      'Session\\DHTEnabled=false', 'Session\\LSDEnabled=false', 'Session\\PeXEnabled=false',
      `Session\\Port=${q.peerPort}`, 'Session\\Interface=lo', 'Session\\InterfaceName=lo', 'Session\\InterfaceAddress=127.0.0.1',
      'Session\\AddTrackersEnabled=false', 'Session\\AnonymousModeEnabled=false', 'Session\\QueueingSystemEnabled=false',
      `Session\\Encryption=${ENCRYPTION_SETTING[encryption]}`, 'Session\\uTPRateLimited=false', `Session\\BTProtocol=${TRANSPORT_SETTING[transport]}`, '',
      '[Preferences]',
      'Connection\\UPnP=false', 'General\\Locale=en',
      'WebUI\\LocalHostAuth=false', `WebUI\\Port=${webPort}`, 'WebUI\\Address=127.0.0.1',
      'WebUI\\CSRFProtection=false', 'WebUI\\HostHeaderValidation=false', 'WebUI\\UseUPnP=false', ''
    ].join('\n'))
    q.proc = procs.start('qbittorrent-nox', 'qbittorrent-nox', [`--profile=${profile}`, `--webui-port=${webPort}`])
    const exited = q.proc.exited.then((c) => { throw new Error(`qbittorrent-nox exited (${c}):\n${q.proc.output()}`) })
    await Promise.race([exited, waitFor('qbittorrent-nox Web API', async () => (await fetch(`${q.base}/api/v2/app/version`)).ok, 30000, 250)])
    exited.catch(() => { /* reported by the waits that follow */ })
    return q
  }

  async post (path: string, body: FormData | URLSearchParams): Promise<string> {
    const r = await fetch(`${this.base}${path}`, { method: 'POST', body })
    const text = await r.text()
    if (!r.ok) throw new Error(`qBittorrent ${path}: HTTP ${r.status} ${text}`)
    return text
  }

  async addTorrent (torrentFile: string, savePath: string): Promise<void> {
    const form = new FormData()
    form.append('torrents', new Blob([readFileSync(torrentFile)], { type: 'application/x-bittorrent' }), basename(torrentFile))
    form.append('savepath', savePath)
    form.append('skip_checking', 'false')
    form.append('autoTMM', 'false')
    const res = await this.post('/api/v2/torrents/add', form)
    if (res.trim() !== 'Ok.') throw new Error(`qBittorrent refused the torrent: ${res}`)
  }

  async info (hash: string): Promise<QbitTorrent | undefined> {
    const r = await fetch(`${this.base}/api/v2/torrents/info?hashes=${hash}`)
    const list = await r.json() as QbitTorrent[]
    return list[0]
  }

  /** The peers connected to torrent `hash`, as qBittorrent's Web API lists them. */
  private async peers (hash: string): Promise<Array<{ flags: string; connection: string }>> {
    const r = await fetch(`${this.base}/api/v2/sync/torrentPeers?hash=${hash}&rid=0`)
    const { peers } = await r.json() as { peers?: Record<string, { flags: string; connection: string }> }
    return Object.values(peers ?? {})
  }

  /** The payload cipher of each peer connected to torrent `hash` (qBittorrent flags RC4 traffic "E"). */
  async peerCiphers (hash: string): Promise<Cipher[]> {
    return (await this.peers(hash)).map((p) => p.flags.split(' ').includes('E') ? 'rc4' : 'plain')
  }

  /** How each peer of torrent `hash` is connected, as qBittorrent names it ("BT" over TCP, "μTP"). */
  async peerConnections (hash: string): Promise<string[]> {
    return (await this.peers(hash)).map((p) => p.connection)
  }

  async addPeer (hash: string, peer: string): Promise<void> {
    await this.post('/api/v2/torrents/addPeers', new URLSearchParams({ hashes: hash, peers: peer }))
  }
}
