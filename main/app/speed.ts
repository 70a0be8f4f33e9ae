// Human-readable figures for the tray and the dock/taskbar.
export function formatSpeed (bytesPerSecond: number): string {
  const units = ['B/s', 'KiB/s', 'MiB/s', 'GiB/s']
  let v = Math.max(0, bytesPerSecond)
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`
}

/** Overall progress of the torrents still downloading, 0..1, or null when nothing is. */
export function overallProgress (torrents: ReadonlyArray<{ state: string; size: number; progress: number }>): number | null {
  const active = torrents.filter((t) => t.state === 'downloading' || t.state === 'metadata')
  if (!active.length) return null
  const size = active.reduce((s, t) => s + t.size, 0)
  if (size === 0) return 0
  return active.reduce((s, t) => s + t.size * t.progress, 0) / size
}
