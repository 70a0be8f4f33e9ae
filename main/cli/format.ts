// Human-readable sizes, speeds and durations for terminal output.
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

export function bytes (n: number): string {
  let i = 0
  let v = n
  while (v >= 1024 && i < UNITS.length - 1) { v /= 1024; i++ }
  return `${i === 0 ? v : v.toFixed(1)} ${UNITS[i]}`
}

export function duration (seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--:--'
  const s = Math.round(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const pad = (x: number) => String(x).padStart(2, '0')
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`
}

export function bar (fraction: number, width = 24): string {
  const full = Math.round(Math.max(0, Math.min(1, fraction)) * width)
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`
}
