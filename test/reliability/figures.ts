// Reliability figures: each test file writes its own JSON under .tmp/reliability/ for
// scripts/reliability-report.mjs to print (inputs tried, faults survived, bytes lost, peak RSS).
// A new figures file may carry `title` and `reportLines: string[]`; the report prints those as they are.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

export const FIGURES_DIR = process.env.SHOAL_RELIABILITY_DIR ??
  join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), '.tmp', 'reliability')

export function writeFigures (name: string, figures: Record<string, unknown>): void {
  mkdirSync(FIGURES_DIR, { recursive: true })
  const data = { ...figures, peakRssBytes: process.resourceUsage().maxRSS * 1024, writtenAt: new Date().toISOString() }
  writeFileSync(join(FIGURES_DIR, `${name}.json`), JSON.stringify(data, null, 2) + '\n')
}
