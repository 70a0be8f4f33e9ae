// Per-process measurement from /proc: peak RSS (VmHWM, a high-water mark kept by the kernel) and
// CPU seconds (utime + stime from /proc/<pid>/stat), sampled while the process runs.
import { readFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'

const TICKS = 100 // USER_HZ on Linux

export interface ProcFigures { peakRssMiB: number; cpuS: number }

function readStat (pid: number): { rssKiB: number; nowKiB: number; cpuS: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
    const now = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the ')' that closes the command name: state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const cpu = (Number(rest[11]) + Number(rest[12])) / TICKS
    return { rssKiB: hwm, nowKiB: now, cpuS: cpu }
  } catch { return null }
}

/** The resident memory of `pid` right now (not its peak), in MiB; 0 once it is gone. */
export function currentRssMiB (pid: number): number {
  return (readStat(pid)?.nowKiB ?? 0) / 1024
}

/** Samples one PID every `everyMs` until stop(); CPU can be read as a delta from mark(). */
export class Sampler {
  peakKiB = 0
  cpuS = 0
  private markCpu = 0
  private timer: NodeJS.Timeout
  private readonly pid: number

  constructor (pid: number, everyMs = 100) {
    this.pid = pid
    this.sample()
    this.timer = setInterval(() => this.sample(), everyMs)
    this.timer.unref()
  }

  sample (): void {
    const s = readStat(this.pid)
    if (!s) return
    this.peakKiB = Math.max(this.peakKiB, s.rssKiB)
    this.cpuS = s.cpuS
  }

  /** Starts the CPU window (e.g. when the transfer begins). */
  mark (): void { this.sample(); this.markCpu = this.cpuS }

  /** Figures so far: lifetime peak RSS, CPU seconds since mark(). */
  figures (): ProcFigures {
    this.sample()
    return { peakRssMiB: this.peakKiB / 1024, cpuS: this.cpuS - this.markCpu }
  }

  stop (): ProcFigures {
    const f = this.figures()
    clearInterval(this.timer)
    return f
  }
}

/** Runs a short command to completion under GNU time: wall seconds, peak RSS and CPU of the whole run. */
export function timed (cmd: string, args: string[], timeoutMs = 600000): { ok: boolean; wallS: number; peakRssMiB: number; cpuS: number; out: string } {
  const r = spawnSync('/usr/bin/time', ['-f', 'BENCHTIME %e %M %U %S', cmd, ...args], { encoding: 'utf8', timeout: timeoutMs })
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`
  const m = /BENCHTIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(out)
  if (!m) return { ok: false, wallS: NaN, peakRssMiB: NaN, cpuS: NaN, out }
  return { ok: r.status === 0, wallS: Number(m[1]), peakRssMiB: Number(m[2]) / 1024, cpuS: Number(m[3]) + Number(m[4]), out }
}
