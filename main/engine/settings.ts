import { homedir } from 'node:os'
import { join } from 'node:path'
import type { Settings } from '../contract/contract.ts'

/** A random port in the dynamic range, picked once per data folder so UPnP mappings stay stable. */
export function randomPort (): number {
  return 49152 + Math.floor(Math.random() * (65535 - 49152))
}

export function defaultSettings (): Settings {
  return {
    downloadPath: join(homedir(), 'Downloads'),
    port: 0,
    maxDownloadSpeed: 0,
    maxUploadSpeed: 0,
    maxConnections: 100,
    dht: true,
    pex: true,
    lsd: true,
    utp: true,
    encryption: 'prefer',
    blocklistPath: '',
    upnp: true,
    seedRatioLimit: 0,
    // Public STUN servers with RFC 5780 support are rare; these answer binding requests at least.
    stunServers: ['stun.l.google.com:19302', 'stun.cloudflare.com:3478'],
    startMinimised: false,
    theme: 'system',
    language: 'en'
  }
}
