// Client-side checks that mirror the contract's SettingsSchema, so a field shows its error before
// anything is sent (the host validates again).
import type { Settings } from './contract.ts'
import type { MessageKey } from './i18n/i18n.svelte.ts'

export type FieldError = { key: MessageKey; params?: Record<string, number> } | null

export function intError (text: string, min: number, max: number): FieldError {
  const n = Number(text)
  return text.trim() !== '' && Number.isInteger(n) && n >= min && n <= max ? null : { key: 'settings.error.number', params: { min, max } }
}

export function ratioError (text: string): FieldError {
  const n = Number(text)
  return text.trim() !== '' && Number.isFinite(n) && n >= 0 ? null : { key: 'settings.error.ratio' }
}

export function stunError (lines: string[]): FieldError {
  return lines.length <= 16 && lines.every((l) => /^[^\s:]+(:\d{1,5})?$/.test(l)) ? null : { key: 'settings.error.stun' }
}

export const KIB = 1024

/** The patch for one text field, or its error. */
export function parseField (name: 'port' | 'maxConnections' | 'maxDownloadSpeed' | 'maxUploadSpeed' | 'seedRatioLimit' | 'downloadPath' | 'stunServers', text: string): { patch: Partial<Settings> } | { error: FieldError } {
  switch (name) {
    case 'port': { const e = intError(text, 0, 65535); return e ? { error: e } : { patch: { port: Number(text) } } }
    case 'maxConnections': { const e = intError(text, 1, 10000); return e ? { error: e } : { patch: { maxConnections: Number(text) } } }
    case 'maxDownloadSpeed':
    case 'maxUploadSpeed': { const e = intError(text, 0, 10_000_000); return e ? { error: e } : { patch: { [name]: Number(text) * KIB } } }
    case 'seedRatioLimit': { const e = ratioError(text); return e ? { error: e } : { patch: { seedRatioLimit: Number(text) } } }
    case 'downloadPath': return text.trim() ? { patch: { downloadPath: text.trim() } } : { error: { key: 'settings.error.required' } }
    case 'stunServers': {
      const lines = text.split('\n').map((l) => l.trim()).filter(Boolean)
      const e = stunError(lines)
      return e ? { error: e } : { patch: { stunServers: lines } }
    }
  }
}
