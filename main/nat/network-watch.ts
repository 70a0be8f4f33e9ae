// Notices when the machine's IPv4 addresses change (new Wi-Fi, VPN, DHCP renumbering), which is
// when a port mapping must be made again on whatever router is now in front of us. Node has no
// portable change event, so it compares snapshots on an unref'd interval.
import { networkInterfaces } from 'node:os'

export function addressFingerprint (): string {
  const all: string[] = []
  for (const [name, list] of Object.entries(networkInterfaces())) {
    for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) all.push(`${name}=${i.address}/${i.netmask}`)
  }
  return all.sort().join(',')
}

/** Calls `onChange` when the fingerprint differs from the last one seen; returns a stop function. */
export function watchNetwork (onChange: () => void, intervalMs: number, fingerprint: () => string = addressFingerprint): () => void {
  let last = fingerprint()
  const timer = setInterval(() => {
    const now = fingerprint()
    if (now !== last) {
      last = now
      onChange()
    }
  }, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
