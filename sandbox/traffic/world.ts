// The traffic world: per region a helloworld-style service (replicas on loopback) and one ingress
// in front. Replica counts are driven by `setReplicas(region, n)`, which the Kubernetes API double
// calls when a deployment is scaled (`attachKube`), so the real `kubectl scale` starts and stops
// replicas. Endpoint changes reach the ingress after `endpointDelayMs` (an EDS push); a started
// replica becomes ready after `readyDelayMs`. Ground truth lands in `ingress.truth`.
import { Ingress, type IngressConfig, type OutlierDetection } from './ingress.ts'
import { Replica } from './replica.ts'

export interface RegionSpec {
  weight: number
  replicas: number
  version?: string
}

export interface TrafficWorldOptions {
  regions: Record<string, RegionSpec>
  failover?: boolean
  distribute?: boolean
  /** Default: consecutive5xxErrors 1, interval 1s, baseEjectionTime 30s, maxEjectionPercent 100. */
  outlierDetection?: OutlierDetection | null
  endpointDelayMs?: number
  readyDelayMs?: number
  seed?: number
}

/** The part of the Kubernetes API double the world needs (sandbox/kube's KubeCluster.addWorkload). */
export interface WorkloadHost {
  addWorkload(o: {
    kind: 'Deployment'
    namespace?: string
    name: string
    replicas: number
    labels?: Record<string, string>
    onReplicas?: (c: { replicas: number }) => void | number | Promise<void | number>
  }): unknown
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export class TrafficWorld {
  readonly ingress: Ingress
  readonly replicas = new Map<string, Replica[]>()
  readonly opts: TrafficWorldOptions
  private seq = 0
  private readonly pending = new Set<NodeJS.Timeout>()
  private readonly chains = new Map<string, Promise<unknown>>()
  private closed = false

  private constructor(opts: TrafficWorldOptions, ingress: Ingress) {
    this.opts = opts
    this.ingress = ingress
  }

  static async start(opts: TrafficWorldOptions): Promise<TrafficWorld> {
    const od = opts.outlierDetection === null ? undefined : (opts.outlierDetection ?? { consecutive5xxErrors: 1, intervalMs: 1000, baseEjectionTimeMs: 30000, maxEjectionPercent: 100 })
    const cfg: IngressConfig = {
      weights: Object.fromEntries(Object.entries(opts.regions).map(([r, s]) => [r, s.weight])),
      failover: opts.failover ?? true,
      distribute: opts.distribute,
      outlierDetection: od,
      seed: opts.seed
    }
    const ingress = new Ingress(cfg)
    await ingress.start()
    const w = new TrafficWorld(opts, ingress)
    // POST /__admin/failing/<region>/(on|off): the switch a fault command flips (curl -X POST ...).
    ingress.onAdmin = (method, path) => {
      const m = /^\/__admin\/failing\/([^/]+)\/(on|off)$/.exec(path)
      if (method !== 'POST' || !m || !w.replicas.has(m[1])) return undefined
      w.setFailing(m[1], m[2] === 'on')
      return { region: m[1], failing: m[2] === 'on' }
    }
    for (const [r, spec] of Object.entries(opts.regions)) {
      w.replicas.set(r, [])
      await w.scale(r, spec.replicas, true)
    }
    return w
  }

  get url(): string {
    return this.ingress.url
  }

  regions(): string[] {
    return Object.keys(this.opts.regions)
  }

  /** Scales a region's service (serially per region); resolves with the ready count. */
  setReplicas(region: string, n: number): Promise<number> {
    if (!this.replicas.has(region)) throw new Error(`no region ${region}`)
    const prev = this.chains.get(region) ?? Promise.resolve()
    const next = prev.then(() => this.scale(region, n, false))
    this.chains.set(region, next.catch(() => undefined))
    return next
  }

  private later(ms: number, fn: () => void): void {
    if (ms <= 0) return fn()
    const t = setTimeout(() => {
      this.pending.delete(t)
      if (!this.closed) fn()
    }, ms)
    this.pending.add(t)
  }

  private publish(region: string): void {
    const list = this.replicas.get(region)!.filter((r) => r.port > 0).map((r) => ({ id: r.instance, url: r.url }))
    this.later(this.opts.endpointDelayMs ?? 0, () => this.ingress.setEndpoints(region, list))
  }

  private async scale(region: string, n: number, initial: boolean): Promise<number> {
    const list = this.replicas.get(region)!
    this.ingress.record(region, 'replicas', `${list.length} -> ${n}`)
    if (n < list.length) {
      const gone = list.splice(n)
      // Endpoints go first (the endpoints controller drops terminating pods), then the pods stop.
      this.publish(region)
      await Promise.all(gone.map((r) => r.stop()))
    } else if (n > list.length) {
      const spec = this.opts.regions[region]
      const fresh: Replica[] = []
      for (let i = list.length; i < n; i++) {
        const r = new Replica({ region, version: spec.version ?? 'v1', instance: `helloworld-${region}-${(++this.seq).toString(36)}` })
        r.failing = this.failing.get(region) ?? false
        await r.start()
        fresh.push(r)
      }
      if (!initial && (this.opts.readyDelayMs ?? 0) > 0) await sleep(this.opts.readyDelayMs!)
      list.push(...fresh)
      if (initial) this.ingress.setEndpoints(region, list.map((r) => ({ id: r.instance, url: r.url })))
      else this.publish(region)
    }
    return list.length
  }

  private readonly failing = new Map<string, boolean>()

  /** Pods stay up but answer 503 (or recover). */
  setFailing(region: string, failing: boolean): void {
    this.failing.set(region, failing)
    for (const r of this.replicas.get(region) ?? []) r.failing = failing
    this.ingress.record(region, 'failing', String(failing))
  }

  /** Lets a region's deployment in the Kubernetes API double own the replica count. */
  attachKube(cluster: WorkloadHost, region: string, o: { namespace: string; name: string }): void {
    cluster.addWorkload({
      kind: 'Deployment',
      namespace: o.namespace,
      name: o.name,
      replicas: this.replicas.get(region)!.length,
      labels: { app: o.name, region },
      onReplicas: async (c) => this.setReplicas(region, c.replicas)
    })
  }

  /** Ground truth: the first capacity-lost / capacity-regained of a region at or after `since`. */
  truthAfter(region: string, event: 'capacity-lost' | 'capacity-regained', since: number): number | undefined {
    return this.ingress.truth.find((e) => e.region === region && e.event === event && e.at >= since)?.at
  }

  async close(): Promise<void> {
    this.closed = true
    for (const t of this.pending) clearTimeout(t)
    this.pending.clear()
    await this.ingress.close()
    await Promise.all([...this.replicas.values()].flat().map((r) => r.stop()))
  }
}
