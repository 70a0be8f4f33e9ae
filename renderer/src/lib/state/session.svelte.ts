// The live state besides torrents: settings, global stats and their history, NAT, connection,
// capabilities. `connect()` wires the API's events into it once.
import type { Capabilities, GlobalStats, NatStatus, Settings } from '../contract.ts'
import { getApi } from '../api/index.ts'
import type { ConnectionState } from '../api/ws-client.ts'
import { torrents } from './torrents.svelte.ts'
import { pushSample, type SpeedSample } from './history.ts'
import { onShareProgress } from './shares.svelte.ts'
import { toast } from './toasts.svelte.ts'
import { setLanguage, t } from '../i18n/i18n.svelte.ts'
import { errorMessage } from '../api/errors.ts'

class Session {
  settings = $state.raw<Settings | null>(null)
  stats = $state.raw<GlobalStats | null>(null)
  nat = $state.raw<NatStatus | null>(null)
  capabilities = $state.raw<Capabilities | null>(null)
  connection = $state<ConnectionState>('connecting')
  /** Global speed, one sample a second, last five minutes. */
  history = $state.raw<SpeedSample[]>([])
}

export const session = new Session()

function applySettings (s: Settings): void {
  session.settings = s
  setLanguage(s.language)
}

async function loadSnapshot (): Promise<void> {
  const api = getApi()
  const [list, settings, stats, nat] = await Promise.all([
    api.call('torrents.list', {}), api.call('settings.get', {}), api.call('stats.get', {}), api.call('nat.status', {})
  ])
  torrents.reset(list)
  applySettings(settings)
  session.stats = stats
  session.nat = nat
}

export function connect (): void {
  const api = getApi()
  api.on('torrents.changed', (ev) => torrents.apply(ev))
  api.on('settings.changed', applySettings)
  api.on('stats.changed', (s) => { session.stats = s })
  api.on('nat.changed', (s) => { session.nat = s })
  api.on('share.progress', onShareProgress)
  api.on('torrent.done', (ev) => toast(t('toast.done', { name: ev.name })))
  api.onConnection((state) => {
    session.connection = state
    // After a (re)connect the events in between are lost: start again from a full snapshot.
    if (state === 'open') loadSnapshot().catch((err: unknown) => toast(errorMessage(err), 'error'))
  })
  api.capabilities.then((c) => { session.capabilities = c }, () => {})
  setInterval(() => {
    const s = session.stats
    session.history = pushSample(session.history, { at: Date.now(), down: s?.downloadSpeed ?? 0, up: s?.uploadSpeed ?? 0 })
  }, 1000)
}
