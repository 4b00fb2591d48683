// One real Envoy process (from .cache/bin/envoy, installed by scripts/setup.d/envoy.sh) acting as
// an Istio ingress gateway in a locality. Its configuration arrives the way a file-based xDS
// delivers it: LDS, CDS and one EDS file per cluster, each a DiscoveryResponse in a watched
// directory, replaced atomically (write, then rename). The admin API is Envoy's own, read back for
// ground truth: /clusters?format=json (per-host health flags) and /stats.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { EnvoyConfig, Locality, Obj } from './istio.ts'

export const ENVOY_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../.cache/bin/envoy')

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

export interface HostState {
  cluster: string
  address: string
  region: string
  zone: string
  priority: number
  /** absent from the host list means not in EDS; these flags are Envoy's */
  outlierEjected: boolean
  healthy: boolean
}

function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_')
}

export class EnvoyGateway {
  readonly locality: Locality
  readonly dir: string
  readonly port: number
  adminPort = 0
  private proc?: ChildProcess
  private version = 0
  private readonly written = new Map<string, string>()
  private stderr = ''

  constructor(o: { locality: Locality; dir: string; port: number }) {
    this.locality = o.locality
    this.dir = o.dir
    this.port = o.port
    for (const d of ['lds', 'cds', 'eds']) mkdirSync(join(this.dir, d), { recursive: true })
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get adminUrl(): string {
    return `http://127.0.0.1:${this.adminPort}`
  }

  private source(kind: string, file: string): Obj {
    return { resource_api_version: 'V3', path_config_source: { path: join(this.dir, kind, file), watched_directory: { path: join(this.dir, kind) } } }
  }

  /** Writes a DiscoveryResponse atomically; false when the content did not change. */
  private publish(kind: string, file: string, resources: Obj[]): boolean {
    const body = JSON.stringify(resources)
    const path = join(this.dir, kind, file)
    if (this.written.get(path) === body) return false
    this.written.set(path, body)
    const tmp = join(this.dir, `.${kind}-${file}.tmp`)
    writeFileSync(tmp, JSON.stringify({ version_info: String(++this.version), resources }))
    renameSync(tmp, path)
    return true
  }

  /** Pushes CDS/EDS/LDS (clusters and their endpoints before the listener that routes to them). */
  push(cfg: EnvoyConfig): { clusters: boolean; endpoints: string[]; listeners: boolean } {
    const endpoints: string[] = []
    for (const c of cfg.clusters) {
      c.eds_cluster_config.eds_config = this.source('eds', `${fileSafe(c.name)}.json`)
    }
    // EDS files exist before the cluster that names them
    for (const [name, a] of cfg.assignments) if (this.publish('eds', `${fileSafe(name)}.json`, [a])) endpoints.push(name)
    const clusters = this.publish('cds', 'cds.json', cfg.clusters)
    const listeners = this.publish('lds', 'lds.json', cfg.listeners)
    return { clusters, endpoints, listeners }
  }

  async start(cfg: EnvoyConfig): Promise<void> {
    if (!existsSync(ENVOY_BIN)) throw new Error(`${ENVOY_BIN} is missing: run 'npm run setup' (scripts/setup.d/envoy.sh)`)
    this.push(cfg)
    const bootstrap = {
      node: { id: `istio-ingressgateway.${this.locality.region}`, cluster: 'istio-ingressgateway', locality: this.locality },
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
      dynamic_resources: { lds_config: this.source('lds', 'lds.json'), cds_config: this.source('cds', 'cds.json') }
    }
    const bootPath = join(this.dir, 'bootstrap.json')
    const addrPath = join(this.dir, 'admin-address')
    writeFileSync(bootPath, JSON.stringify(bootstrap))
    const proc = spawn(ENVOY_BIN, ['-c', bootPath, '--admin-address-path', addrPath, '--concurrency', '1', '--disable-hot-restart', '-l', 'warning', '--drain-time-s', '0'], {
      stdio: ['ignore', 'ignore', 'pipe']
    })
    this.proc = proc
    proc.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000)
    })
    // Envoy starts in well under a second here, but a machine busy with Cassandra nodes can make
    // it take several: wait up to 30 s before calling it stuck.
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      if (proc.exitCode !== null) throw new Error(`envoy exited with ${proc.exitCode}: ${this.stderr}`)
      if (existsSync(addrPath)) {
        const text = readFileSync(addrPath, 'utf8').trim()
        const m = /:(\d+)$/.exec(text)
        if (m) this.adminPort = Number(m[1])
      }
      if (this.adminPort) {
        const ready = await fetch(`${this.adminUrl}/ready`).then((r) => r.ok, () => false)
        const listening = await fetch(`${this.adminUrl}/listeners?format=json`).then((r) => r.text(), () => '')
        if (ready && (cfg.listeners.length === 0 || listening.includes(String(this.port)))) return
      }
      await sleep(20)
    }
    throw new Error(`envoy did not become ready in 30 s: ${this.stderr || '(nothing on stderr)'}`)
  }

  /** The hosts Envoy has now, per cluster, with their health flags. */
  async hosts(): Promise<HostState[]> {
    const res = await fetch(`${this.adminUrl}/clusters?format=json`)
    const body = (await res.json()) as Obj
    const out: HostState[] = []
    for (const c of (body.cluster_statuses ?? []) as Obj[]) {
      for (const h of (c.host_statuses ?? []) as Obj[]) {
        const hs = (h.health_status ?? {}) as Obj
        const sa = h.address?.socket_address ?? {}
        const ejected = hs.failed_outlier_check === true
        out.push({
          cluster: c.name,
          address: `${sa.address}:${sa.port_value}`,
          region: h.locality?.region ?? '',
          zone: h.locality?.zone ?? '',
          priority: h.priority ?? 0,
          outlierEjected: ejected,
          healthy: !ejected && !hs.failed_active_health_check && (hs.eds_health_status ?? 'HEALTHY') === 'HEALTHY'
        })
      }
    }
    return out
  }

  /** Counters and gauges matching a regex, as numbers. */
  async stats(filter: string): Promise<Record<string, number>> {
    const res = await fetch(`${this.adminUrl}/stats?format=json&filter=${encodeURIComponent(filter)}`)
    const body = (await res.json()) as Obj
    const out: Record<string, number> = {}
    for (const s of (body.stats ?? []) as Obj[]) if (typeof s.value === 'number') out[s.name] = s.value
    return out
  }

  async close(): Promise<void> {
    const p = this.proc
    this.proc = undefined
    if (!p || p.exitCode !== null) return
    await new Promise<void>((r) => {
      p.once('exit', () => r())
      p.kill('SIGTERM')
      setTimeout(() => p.kill('SIGKILL'), 2000).unref()
    })
  }
}
