// A NAT lab from Linux network namespaces: a home host behind a router (nftables NAT + miniupnpd
// for UPnP IGD and NAT-PMP), an ISP hop that can add a second NAT, and an "internet" namespace
// with coturn STUN servers. Nothing is linked to the host's own namespace, so no lab packet can
// leave it. Needs root; every process it starts it stops again by PID.
//
//   home 192.168.77.10 -- 192.168.77.1 router WAN_R -- ISP_CPE isp 198.20.0.1 -- wan 198.20.0.10-.20
//
// 198.20.0.0/23 is ordinary public space on purpose: miniupnpd refuses to map when its WAN address
// is private or reserved (that refusal is exactly what the double-NAT case tests).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, openSync, closeSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const HOME_IP = '192.168.77.10'
export const ROUTER_LAN_IP = '192.168.77.1'
/** Router WAN address when it sits directly on the internet. */
export const ROUTER_PUBLIC_IP = '198.20.1.1'
/** Router WAN address behind the ISP's carrier-grade NAT (RFC 6598 shared space). */
export const ROUTER_CGNAT_IP = '100.64.0.1'
export const ISP_PUBLIC_IP = '198.20.0.1'
/** coturn with two addresses: RFC 5780 (OTHER-ADDRESS, CHANGE-REQUEST). */
export const STUN_5780 = '198.20.0.10:3478'
export const STUN_5780_ALT_IP = '198.20.0.11'
/** coturn with one address each: plain RFC 5389 servers (no OTHER-ADDRESS). */
export const STUN_PLAIN = '198.20.0.12:3478'
export const STUN_PLAIN_2 = '198.20.0.13:3478'
/** An internet host where nothing listens. */
export const WAN_PEER_IP = '198.20.0.20'

export type Behaviour = 'port-restricted' | 'symmetric' | 'full-cone' | 'restricted' | 'udp-blocked'
export interface RouterDaemon { upnp: boolean; natpmp: boolean; igdVersion: 1 | 2 }

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const NEEDED = ['ip', 'nft', 'conntrack', 'miniupnpd', 'turnserver', 'upnpc']

/** Why the lab cannot run here, or null when it can. */
export function labUnavailable (): string | null {
  if (process.platform !== 'linux') return 'the NAT lab needs Linux network namespaces'
  if (process.getuid?.() !== 0) return 'the NAT lab needs root (network namespaces); CI runs as root'
  const missing = NEEDED.filter((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0)
  if (missing.length) return `the NAT lab needs ${missing.join(', ')} (apt: iproute2 nftables conntrack miniupnpd miniupnpd-nftables coturn miniupnpc)`
  const version = spawnSync('miniupnpd', ['--version'], { encoding: 'utf8' })
  if (!/nftables/.test(`${version.stdout}${version.stderr}`)) return 'the NAT lab needs the nftables build of miniupnpd (miniupnpd-nftables)'
  return null
}

function run (cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`)
  return r.stdout
}

export class NatLab {
  readonly home: string
  readonly router: string
  readonly isp: string
  readonly wan: string
  readonly runDir: string
  private readonly daemons = new Map<string, ChildProcess>()
  private doubleNat = false

  /** `id` keeps concurrent test files apart: each gets its own namespaces and run folder. */
  constructor (id: string) {
    this.home = `shoalnat_${id}_home`
    this.router = `shoalnat_${id}_router`
    this.isp = `shoalnat_${id}_isp`
    this.wan = `shoalnat_${id}_wan`
    this.runDir = join(REPO, '.tmp', `natlab-${id}`)
  }

  get namespaces (): string[] { return [this.home, this.router, this.isp, this.wan] }

  /** Builds the namespaces, the router's NAT and the STUN servers; UPnP is started separately. */
  up (behaviour: Behaviour = 'port-restricted'): void {
    this.down() // a crashed earlier run may have left our namespaces behind
    mkdirSync(this.runDir, { recursive: true })
    for (const ns of this.namespaces) {
      run('ip', ['netns', 'add', ns])
      this.ip(ns, 'link set lo up')
    }
    run('ip', ['link', 'add', 'h0', 'netns', this.home, 'type', 'veth', 'peer', 'name', 'r_lan', 'netns', this.router])
    run('ip', ['link', 'add', 'r_wan', 'netns', this.router, 'type', 'veth', 'peer', 'name', 'i_cpe', 'netns', this.isp])
    run('ip', ['link', 'add', 'i_net', 'netns', this.isp, 'type', 'veth', 'peer', 'name', 'w0', 'netns', this.wan])
    this.ip(this.home, `addr add ${HOME_IP}/24 dev h0`, 'link set h0 up', `route add default via ${ROUTER_LAN_IP}`)
    this.ip(this.router, `addr add ${ROUTER_LAN_IP}/24 dev r_lan`, 'link set r_lan up', 'link set r_wan up')
    this.ip(this.isp, 'link set i_cpe up', `addr add ${ISP_PUBLIC_IP}/24 dev i_net`, 'link set i_net up')
    this.ip(this.wan, ...['10', '11', '12', '13', '20'].map((h) => `addr add 198.20.0.${h}/24 dev w0`), 'link set w0 up')
    for (const ns of [this.router, this.isp]) this.exec(ns, ['sysctl', '-qw', 'net.ipv4.ip_forward=1'])
    this.exec(this.router, ['nft', '-f', '-'], ROUTER_RULESET)
    this.exec(this.isp, ['nft', '-f', '-'], ISP_RULESET)
    this.setWan(false)
    this.setBehaviour(behaviour)
    this.startStun()
  }

  /** Stops what the lab started (by PID), then removes its namespaces; safe to call any time. */
  down (): void {
    for (const [name, child] of this.daemons) this.stopDaemon(name, child)
    this.daemons.clear()
    const existing = new Set(run('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]))
    for (const ns of this.namespaces.filter((n) => existing.has(n))) {
      // Leftovers of a crashed run: any process inside our own namespace is one the lab started.
      for (const pid of run('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean).map(Number)) killAndWait(pid)
      run('ip', ['netns', 'del', ns])
    }
  }

  /** Gives the router a public WAN address, or puts it behind the ISP's NAT with a shared (100.64/10) one. */
  setWan (doubleNat: boolean): void {
    this.doubleNat = doubleNat
    const [routerIp, ispIp] = doubleNat ? [ROUTER_CGNAT_IP, '100.64.0.254'] : [ROUTER_PUBLIC_IP, '198.20.1.254']
    this.ip(this.router, 'addr flush dev r_wan', `addr add ${routerIp}/24 dev r_wan`, `route replace default via ${ispIp}`)
    this.ip(this.isp, 'addr flush dev i_cpe', `addr add ${ispIp}/24 dev i_cpe`)
    this.exec(this.isp, ['nft', '-f', '-'], `flush chain ip isp post\n${doubleNat ? `add rule ip isp post oifname "i_net" masquerade\n` : ''}`)
    if (doubleNat) this.ip(this.wan, 'route del 198.20.1.0/24', true)
    else this.ip(this.wan, 'route replace 198.20.1.0/24 via 198.20.0.1')
    this.flushConntrack()
  }

  /** Renumbers the home host (a "network change" for the code under test). */
  setHomeAddress (ip: string): void {
    this.ip(this.home, 'addr flush dev h0', `addr add ${ip}/24 dev h0`, `route replace default via ${ROUTER_LAN_IP}`)
  }

  get routerWanIp (): string { return this.doubleNat ? ROUTER_CGNAT_IP : ROUTER_PUBLIC_IP }

  /** Rewrites only the router's behaviour chains; miniupnpd's chains stay as they are. */
  setBehaviour (b: Behaviour): void {
    const wan = this.routerWanIp
    const inboundToHome = `iifname "r_wan" ip daddr ${wan} udp dport 1024-65535 ct mark set 0x1 dnat ip to ${HOME_IP}`
    const rules: Record<'pre' | 'post' | 'fwd_in' | 'fwd_out', string[]> = { pre: [], post: [], fwd_in: [], fwd_out: [] }
    switch (b) {
      case 'port-restricted': // Linux masquerade: endpoint-independent mapping, address-and-port-dependent filtering
      case 'udp-blocked':
        rules.post.push('oifname "r_wan" masquerade')
        if (b === 'udp-blocked') rules.fwd_out.push('meta l4proto udp drop')
        break
      case 'symmetric': // a new random external port per destination
        rules.post.push('oifname "r_wan" masquerade fully-random')
        break
      case 'full-cone': // port-preserving SNAT, and every inbound UDP port forwarded back to the home host
        rules.post.push(`oifname "r_wan" snat ip to ${wan}`)
        rules.pre.push(inboundToHome)
        rules.fwd_in.push('ct status dnat ct mark 0x1 accept')
        break
      case 'restricted': // like full cone, but only from addresses the home host has sent to from that port
        rules.post.push(`oifname "r_wan" snat ip to ${wan}`)
        rules.pre.push(inboundToHome)
        rules.fwd_out.push('meta l4proto udp update @contacted { ip daddr . udp sport }')
        rules.fwd_in.push('ct status dnat ct mark 0x1 meta l4proto udp ip saddr . udp dport @contacted accept')
        break
    }
    const chains = (Object.keys(rules) as Array<keyof typeof rules>)
      .map((c) => `flush chain inet filter behaviour_${c}\n${rules[c].map((r) => `add rule inet filter behaviour_${c} ${r}\n`).join('')}`)
    this.exec(this.router, ['nft', '-f', '-'], `flush set inet filter contacted\n${chains.join('')}`)
    this.flushConntrack()
  }

  /** (Re)starts miniupnpd with the given services; stopRouterDaemon() leaves a router with neither. */
  startRouterDaemon (d: RouterDaemon): void {
    this.stopRouterDaemon()
    const conf = join(this.runDir, 'miniupnpd.conf')
    writeFileSync(conf, [
      'ext_ifname=r_wan', 'listening_ip=r_lan', 'http_port=5000',
      `enable_upnp=${d.upnp ? 'yes' : 'no'}`, `enable_natpmp=${d.natpmp ? 'yes' : 'no'}`,
      'ipv6_disable=yes', 'secure_mode=yes', 'system_uptime=yes',
      `lease_file=${join(this.runDir, 'upnp.leases')}`,
      'uuid=5a0e7d3c-1f2b-4c5d-8e9f-0a1b2c3d4e5f', 'friendly_name=Shoal NAT lab router',
      `force_igd_desc_v1=${d.igdVersion === 1 ? 'yes' : 'no'}`,
      'allow 1024-65535 192.168.77.0/24 1024-65535', 'deny 0-65535 0.0.0.0/0 0-65535', ''
    ].join('\n'))
    rmSync(join(this.runDir, 'upnp.leases'), { force: true })
    this.flushMiniupnpdChains()
    this.startDaemon('miniupnpd', this.router, ['miniupnpd', '-d', '-f', conf, '-P', join(this.runDir, 'miniupnpd.pid')])
    if (d.upnp) this.waitFor(() => /:5000\b/.test(this.exec(this.router, ['ss', '-ltn'])), 'miniupnpd HTTP port')
    if (d.natpmp) this.waitFor(() => /:5351\b/.test(this.exec(this.router, ['ss', '-lun'])), 'miniupnpd NAT-PMP port')
  }

  stopRouterDaemon (): void {
    const child = this.daemons.get('miniupnpd')
    if (child) this.stopDaemon('miniupnpd', child)
    this.daemons.delete('miniupnpd')
    this.flushMiniupnpdChains()
  }

  /** The router's UPnP table as miniupnpc (not the code under test) reads it: "TCP 51413->192.168.77.10:51413". */
  upnpTable (): string[] {
    const out = this.exec(this.home, ['upnpc', '-u', `http://${ROUTER_LAN_IP}:5000/rootDesc.xml`, '-l'], undefined, true)
    return [...out.matchAll(/\b(TCP|UDP)\s+(\d+)->([\d.]+):(\d+)/g)].map((m) => `${m[1]} ${m[2]}->${m[3]}:${m[4]}`)
  }

  /** The router's forwarding rules as miniupnpd wrote them into nftables. */
  routerForwards (): string {
    return this.exec(this.router, ['nft', 'list', 'chain', 'inet', 'filter', 'prerouting_miniupnpd'])
  }

  /** Runs a command in a namespace and returns its stdout. */
  exec (ns: string, argv: string[], input?: string, allowFailure = false): string {
    const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', input })
    if (r.status !== 0 && !allowFailure) throw new Error(`[${ns}] ${argv.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`)
    return r.stdout ?? ''
  }

  /** Starts a long-running process in a namespace; the caller owns it (and the lab kills it at down()). */
  spawnIn (ns: string, argv: string[]): ChildProcess {
    return spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] })
  }

  private startStun (): void {
    const common = ['--stun-only', '--no-cli', '--no-tls', '--no-dtls', '--log-file', 'stdout', '--simple-log', '--no-software-attribute']
    this.startDaemon('coturn-5780', this.wan, ['turnserver', '-n', ...common, '-L', '198.20.0.10', '-L', STUN_5780_ALT_IP,
      '--listening-port', '3478', '--alt-listening-port', '3479', '--pidfile', join(this.runDir, 'coturn-5780.pid')])
    for (const [name, ip] of [['coturn-plain', '198.20.0.12'], ['coturn-plain-2', '198.20.0.13']] as const) {
      this.startDaemon(name, this.wan, ['turnserver', '-n', ...common, '-L', ip, '--listening-port', '3478', '--pidfile', join(this.runDir, `${name}.pid`)])
    }
    this.waitFor(() => {
      const udp = this.exec(this.wan, ['ss', '-lun'])
      return ['198.20.0.10:3478', '198.20.0.11:3479', '198.20.0.12:3478', '198.20.0.13:3478'].every((a) => udp.includes(a))
    }, 'coturn STUN ports')
  }

  private startDaemon (name: string, ns: string, argv: string[]): void {
    const log = openSync(join(this.runDir, `${name}.log`), 'w')
    // `ip netns exec` execs the command, so the child's PID is the daemon's own.
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', log, log] })
    closeSync(log)
    this.daemons.set(name, child)
  }

  private stopDaemon (name: string, child: ChildProcess): void {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) killAndWait(child.pid)
    void name
  }

  private flushMiniupnpdChains (): void {
    for (const c of ['miniupnpd', 'prerouting_miniupnpd', 'postrouting_miniupnpd']) {
      this.exec(this.router, ['nft', 'flush', 'chain', 'inet', 'filter', c], undefined, true)
    }
  }

  private flushConntrack (): void {
    for (const ns of [this.router, this.isp]) this.exec(ns, ['conntrack', '-F'], undefined, true)
  }

  private ip (ns: string, ...cmds: Array<string | boolean>): void {
    const allowFailure = cmds.includes(true)
    for (const c of cmds) if (typeof c === 'string') this.exec(ns, ['ip', ...c.split(' ')], undefined, allowFailure)
  }

  private waitFor (ok: () => boolean, what: string, ms = 5000): void {
    const end = Date.now() + ms
    while (!ok()) {
      if (Date.now() > end) throw new Error(`NAT lab: ${what} not ready after ${ms} ms; logs in ${this.runDir}`)
      spawnSync('sleep', ['0.05'])
    }
  }

  logs (name: string): string {
    const p = join(this.runDir, `${name}.log`)
    return existsSync(p) ? readFileSync(p, 'utf8') : ''
  }
}

/** SIGTERM, up to 3 s to go, then SIGKILL. Only ever given PIDs the lab started or found in its own namespaces. */
function killAndWait (pid: number): void {
  const alive = (): boolean => {
    try {
      process.kill(pid, 0)
      return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))
    } catch { return false }
  }
  try { process.kill(pid, 'SIGTERM') } catch { return }
  const end = Date.now() + 3000
  while (alive() && Date.now() < end) spawnSync('sleep', ['0.05'])
  if (alive()) { try { process.kill(pid, 'SIGKILL') } catch { /* gone */ } }
}

// miniupnpd's nftables backend writes into table inet filter, chains miniupnpd (forward),
// prerouting_miniupnpd and postrouting_miniupnpd, which must exist before it starts.
const ROUTER_RULESET = `
table inet filter {
  set contacted { type ipv4_addr . inet_service; flags dynamic,timeout; timeout 120s; }
  chain miniupnpd {}
  chain prerouting_miniupnpd {}
  chain postrouting_miniupnpd {}
  chain behaviour_pre {}
  chain behaviour_post {}
  chain behaviour_fwd_in {}
  chain behaviour_fwd_out {}
  chain forward {
    type filter hook forward priority filter; policy drop;
    iifname "r_lan" oifname "r_wan" jump behaviour_fwd_out
    ct state established,related accept
    iifname "r_lan" oifname "r_wan" accept
    iifname "r_wan" jump miniupnpd
    iifname "r_wan" jump behaviour_fwd_in
  }
  chain prerouting { type nat hook prerouting priority dstnat; policy accept; jump prerouting_miniupnpd; jump behaviour_pre; }
  chain postrouting { type nat hook postrouting priority srcnat; policy accept; jump postrouting_miniupnpd; jump behaviour_post; }
}
`
const ISP_RULESET = `
table ip isp {
  chain post { type nat hook postrouting priority srcnat; policy accept; }
}
`

const PROBE = join(REPO, 'test', 'nat', 'probe.ts')

/** From the internet namespace, does `host:port` answer over `proto`? (The home echo listener must be up.) */
export function probeFromWan (lab: NatLab, proto: 'tcp' | 'udp', host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const child = lab.spawnIn(lab.wan, [process.execPath, PROBE, proto, host, String(port)])
    child.on('exit', (code) => resolve(code === 0))
  })
}
