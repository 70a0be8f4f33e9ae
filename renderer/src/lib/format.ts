// Numbers for people: sizes, speeds, durations, dates, in the current language.
import { language } from './i18n/i18n.svelte.ts'

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB']

export function bytes (n: number): string {
  if (!Number.isFinite(n) || n <= 0) return '0 B'
  const i = Math.min(UNITS.length - 1, Math.floor(Math.log(n) / Math.log(1024)))
  const v = n / 1024 ** i
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${UNITS[i]}`
}

export function speed (n: number): string {
  return n > 0 ? `${bytes(n)}/s` : '—'
}

export function percent (fraction: number): string {
  const p = Math.max(0, Math.min(1, fraction)) * 100
  return `${p >= 100 ? 100 : p.toFixed(1)}%`
}

export function duration (seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—'
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`
}

export function ratio (r: number): string {
  return Number.isFinite(r) ? r.toFixed(2) : '∞'
}

export function date (ms: number | null): string {
  if (!ms) return '—'
  return new Intl.DateTimeFormat(language(), { dateStyle: 'medium', timeStyle: 'short' }).format(ms)
}

export function relativeTime (ms: number): string {
  const secs = Math.round((ms - Date.now()) / 1000)
  const rtf = new Intl.RelativeTimeFormat(language(), { numeric: 'auto' })
  if (Math.abs(secs) < 60) return rtf.format(secs, 'second')
  if (Math.abs(secs) < 3600) return rtf.format(Math.round(secs / 60), 'minute')
  return rtf.format(Math.round(secs / 3600), 'hour')
}

/** A short kind for a file name, from its extension ("PDF", "MP4"), or null. */
export function fileKind (name: string): string | null {
  const m = /\.([a-z0-9]{1,6})$/i.exec(name)
  return m ? m[1]!.toUpperCase() : null
}
