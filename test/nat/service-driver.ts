// The test side of driver.ts: starts it in the lab's home namespace and talks JSON lines to it.
import type { ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { NatStatus } from '../../main/contract/contract.ts'
import type { DriverCommand } from './driver.ts'
import type { NatLab } from './lab.ts'

const DRIVER = fileURLToPath(new URL('./driver.ts', import.meta.url))

export class ServiceDriver {
  readonly events: NatStatus[] = []
  private readonly child: ChildProcess
  private readonly pending: Array<{ resolve: (v: unknown) => void; reject: (e: Error) => void }> = []
  private stderr = ''

  constructor (lab: NatLab) {
    this.child = lab.spawnIn(lab.home, [process.execPath, DRIVER])
    this.child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString() })
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as { event?: string; status?: NatStatus; ok?: boolean; result?: unknown; error?: string }
      if (msg.event === 'changed') { this.events.push(msg.status!); return }
      const p = this.pending.shift()
      if (msg.ok) p?.resolve(msg.result)
      else p?.reject(new Error(`driver: ${msg.error}`))
    })
    this.child.on('exit', (code) => {
      for (const p of this.pending.splice(0)) p.reject(new Error(`driver exited ${code}: ${this.stderr}`))
    })
  }

  call<T = NatStatus> (cmd: DriverCommand): Promise<T> {
    return new Promise<unknown>((resolve, reject) => {
      this.pending.push({ resolve, reject })
      this.child.stdin!.write(JSON.stringify(cmd) + '\n')
    }) as Promise<T>
  }

  /** Asks the driver to exit; kills it by PID if it does not. */
  async stop (): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()))
    this.child.stdin!.write(JSON.stringify({ op: 'exit' }) + '\n')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000)
    await exited
    clearTimeout(timer)
  }
}
