// The traffic world: per region a helloworld service (replicas on loopback) and an ingress gateway
// that is a real Envoy in that region's locality, routing to the replicas of every region. Replica
// counts belong to the deployments of the Kubernetes API doubles (`attachKube`: the real
// `kubectl scale` starts and stops replicas). Istio's objects and Chaos Mesh's HTTPChaos live in
// the region's cluster; an istiod-like loop translates the objects into Envoy configuration
// (sandbox/traffic/istio.ts), and pushes endpoints `endpointDelayMs` after the replicas change.
// Ground truth comes from Envoy: its admin API polled (per-host outlier ejections, the capacity of
// each region as the primary gateway sees it) and the record of every push.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KubeCluster } from '../kube/index.ts'
import { active, faultOf, intercepts, select, status, type PodView } from './chaos.ts'
import { EnvoyGateway, freePort, type HostState } from './envoy.ts'
import { defaultObjects, fqdn, translate, type IstioObjects, type MeshEndpoint, type Obj } from './istio.ts'
import { Replica } from './replica.ts'

export interface RegionSpec {
  weight: number
  replicas: number
  version?: string
}

export interface TrafficWorldOptions {
  regions: Record<string, RegionSpec>
  /** Istio's DestinationRule outlierDetection for the default objects; null: none. */
  outlierDetection?: Obj | null
  /** istiod's endpoint push delay (default 100 ms) */
  endpointDelayMs?: number
  readyDelayMs?: number
  /** the region whose gateway is `url` (default the first) */
  primary?: string
  namespace?: string
  service?: string
}

export interface GroundTruthEvent {
  at: number
  /** Admin-API events: the previous read, which still showed the old state (the change lies in (since, at]). */
  since?: number
  region: string
  event: 'capacity-lost' | 'capacity-regained' | 'ejected' | 'returned' | 'endpoints' | 'replicas' | 'chaos-injected' | 'chaos-recovered' | 'config'
  detail: string
}

/** The part of the Kubernetes API double the world uses. */
export type WorkloadHost = Pick<KubeCluster, 'addWorkload' | 'apply' | 'list' | 'putStatus'>

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
/** The container port the service's pods declare (the port the Istio translation's routes name);
 *  the replicas really listen on ephemeral loopback ports, HTTPChaos's spec.port is matched to this. */
export const POD_PORT = 80
const KINDS = [
  ['gateways', 'gateways'],
  ['virtualservices', 'virtualServices'],
  ['destinationrules', 'destinationRules']
] as const

export class TrafficWorld {
  readonly opts: TrafficWorldOptions
  readonly namespace: string
  readonly service: string
  readonly host: string
  readonly replicas = new Map<string, Replica[]>()
  readonly gateways = new Map<string, EnvoyGateway>()
  readonly truth: GroundTruthEvent[] = []
  private readonly published = new Map<string, Replica[]>()
  private readonly kube = new Map<string, WorkloadHost>()
  private readonly chains = new Map<string, Promise<unknown>>()
  private readonly pending = new Set<NodeJS.Timeout>()
  private readonly capacity = new Map<string, boolean>()
  private readonly ejected = new Set<string>()
  /** when the last read of the admin API was sent (the bound `since` of the next change) */
  private lastAdminRead?: number
  private readonly chaosState = new Map<string, string>()
  private readonly dir: string
  private seq = 0
  private closed = false
  private loops: Promise<void>[] = []

  private constructor(opts: TrafficWorldOptions) {
    this.opts = opts
    this.namespace = opts.namespace ?? 'apigee'
    this.service = opts.service ?? 'helloworld'
    this.host = fqdn(this.service, this.namespace)
    this.dir = mkdtempSync(join(tmpdir(), 'mesh-'))
  }

  static async start(opts: TrafficWorldOptions): Promise<TrafficWorld> {
    const w = new TrafficWorld(opts)
    try {
      for (const [r, spec] of Object.entries(opts.regions)) {
        w.replicas.set(r, [])
        await w.scale(r, spec.replicas, true)
        w.published.set(r, [...w.replicas.get(r)!])
      }
      for (const r of w.regions()) {
        const gw = new EnvoyGateway({ locality: { region: r, zone: `${r}-gw` }, dir: join(w.dir, r), port: await freePort() })
        w.gateways.set(r, gw)
        await gw.start(w.config(r))
      }
      await w.pollAdmin()
      w.loops = [w.loop(100, () => w.syncConfig()), w.loop(50, () => w.syncChaos()), w.loop(10, () => w.pollAdmin())]
      return w
    } catch (e) {
      await w.close()
      throw e
    }
  }

  get primary(): string {
    return this.opts.primary ?? this.regions()[0]
  }

  /** The primary gateway's URL (what a global load balancer would hand a client). */
  get url(): string {
    return this.gateways.get(this.primary)!.url
  }

  regions(): string[] {
    return Object.keys(this.opts.regions)
  }

  record(region: string, event: GroundTruthEvent['event'], detail: string, at = Date.now(), since?: number): void {
    this.truth.push({ at, region, event, detail, ...(since === undefined ? {} : { since }) })
  }

  private loop(ms: number, fn: () => Promise<void> | void): Promise<void> {
    return (async () => {
      while (!this.closed) {
        await Promise.resolve(fn()).catch(() => undefined)
        await sleep(ms)
      }
    })()
  }

  /** Istio's objects as the region's cluster has them (the defaults until a cluster is attached). */
  objects(region: string): IstioObjects {
    const k = this.kube.get(region)
    if (!k) {
      const d = defaultObjects({ namespace: this.namespace, service: this.service, weights: this.weights(), outlier: this.opts.outlierDetection })
      return { gateways: d.filter((o) => o.kind === 'Gateway'), virtualServices: d.filter((o) => o.kind === 'VirtualService'), destinationRules: d.filter((o) => o.kind === 'DestinationRule') }
    }
    const out = { gateways: [], virtualServices: [], destinationRules: [] } as IstioObjects
    for (const [resource, key] of KINDS) out[key] = k.list(resource, this.namespace) as Obj[]
    return out
  }

  private weights(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.opts.regions).map(([r, s]) => [r, s.weight]))
  }

  private endpoints(): MeshEndpoint[] {
    const out: MeshEndpoint[] = []
    for (const [r, list] of this.published) {
      for (const x of list) out.push({ address: '127.0.0.1', port: x.port, host: this.host, labels: this.labels(r, x), locality: { region: r, zone: `${r}-1` } })
    }
    return out
  }

  private labels(region: string, r: Replica): Record<string, string> {
    return { app: this.service, region, version: r.version }
  }

  private config(region: string): ReturnType<typeof translate> {
    return translate(this.objects(region), { region, zone: `${region}-1`, namespace: this.namespace, port: this.gateways.get(region)!.port }, this.endpoints())
  }

  /** istiod: translate and push to every gateway; records what changed. */
  private syncConfig(): void {
    for (const [r, gw] of this.gateways) {
      const pushed = gw.push(this.config(r))
      if (pushed.clusters || pushed.listeners) this.record(r, 'config', `gateway ${r}: ${[pushed.clusters && 'CDS', pushed.listeners && 'LDS'].filter(Boolean).join(', ')} pushed`)
      if (pushed.endpoints.length) this.record(r, 'endpoints', `gateway ${r}: EDS ${pushed.endpoints.join(', ')}: ${[...this.published].map(([x, l]) => `${x} ${l.length}`).join(', ')}`)
    }
  }

  /** Chaos Mesh: every HTTPChaos of each region's cluster applied to the pods it selects. */
  private syncChaos(): void {
    const now = Date.now()
    const want = new Map<Replica, { fault: Omit<NonNullable<Replica['fault']>, 'by'>; by: string }>()
    for (const [region, k] of this.kube) {
      const pods: PodView[] = (this.replicas.get(region) ?? []).map((replica) => ({ replica, namespace: this.namespace, labels: this.labels(region, replica), ports: [POD_PORT] }))
      for (const c of k.list('httpchaos') as Obj[]) {
        const id = `${region}/${c.metadata.namespace}/${c.metadata.name}`
        const chosen = select(c, pods)
        const fault = faultOf(c)
        const on = fault !== undefined && active(c, now)
        if (on) for (const p of chosen.filter((x) => intercepts(c, x))) want.set(p.replica, { fault: fault!, by: id })
        const state = `${on}:${chosen.map((p) => p.replica.instance).join(',')}`
        if (this.chaosState.get(id) !== state) {
          this.chaosState.set(id, state)
          this.record(region, on ? 'chaos-injected' : 'chaos-recovered', `${id}: ${chosen.length} pod(s)`)
          try {
            k.putStatus('httpchaos', c.metadata.namespace, c.metadata.name, status(c, chosen, on))
          } catch {
            // deleted meanwhile
          }
        }
      }
    }
    for (const [id] of this.chaosState) {
      const [region, ns, name] = id.split('/')
      if (!(this.kube.get(region)?.list('httpchaos', ns) as Obj[] | undefined)?.some((c) => c.metadata.name === name)) {
        this.chaosState.delete(id)
        this.record(region, 'chaos-recovered', `${id} deleted`)
      }
    }
    for (const list of this.replicas.values()) {
      for (const r of list) {
        const w = want.get(r)
        // faults set by hand (not by an HTTPChaos: no 'region/namespace/name') are left alone
        if (w) r.fault = { ...w.fault, by: w.by }
        else if (r.fault?.by.split('/').length === 3) r.fault = undefined
      }
    }
  }

  /** Ground truth from the primary gateway's admin API. */
  private async pollAdmin(): Promise<void> {
    const gw = this.gateways.get(this.primary)
    if (!gw || this.closed) return
    // Envoy read its state somewhere between the request and the answer; an answer delayed by
    // a loaded machine must not stamp a change later than a client could already see it. The
    // change itself happened after the previous read: events carry that bound as `since`.
    const at = Date.now()
    const since = this.lastAdminRead
    let hosts: HostState[]
    try {
      hosts = await gw.hosts()
    } catch {
      return
    }
    this.lastAdminRead = at
    const now = new Set<string>()
    for (const h of hosts) {
      const id = `${h.cluster} ${h.address}`
      if (h.outlierEjected) now.add(id)
      if (h.outlierEjected && !this.ejected.has(id)) this.record(h.region, 'ejected', `${h.address} (${h.cluster})`, at, since)
      if (!h.outlierEjected && this.ejected.has(id)) this.record(h.region, 'returned', `${h.address} (${h.cluster})`, at, since)
    }
    this.ejected.clear()
    for (const id of now) this.ejected.add(id)
    for (const r of this.regions()) {
      const has = hosts.some((h) => h.region === r && h.healthy)
      if (has !== (this.capacity.get(r) ?? false)) {
        this.capacity.set(r, has)
        this.record(r, has ? 'capacity-regained' : 'capacity-lost', has ? 'a healthy endpoint in Envoy' : 'no healthy endpoint left in Envoy', at, since)
      }
    }
  }

  /** Envoy's own counters of the primary gateway (e.g. downstream requests). */
  async requests(): Promise<number> {
    const s = await this.gateways.get(this.primary)!.stats('^http\\.ingress\\.downstream_rq_total$')
    return s['http.ingress.downstream_rq_total'] ?? 0
  }

  /** Scales a region's service (serially per region); resolves with the running count. */
  setReplicas(region: string, n: number): Promise<number> {
    if (!this.replicas.has(region)) throw new Error(`no region ${region}`)
    const prev = this.chains.get(region) ?? Promise.resolve()
    const next = prev.then(() => this.scale(region, n, false))
    this.chains.set(region, next.catch(() => undefined))
    return next
  }

  /** The endpoints controller + istiod's push delay: the gateways see the change later. */
  private publish(region: string): void {
    const snapshot = [...this.replicas.get(region)!]
    const t = setTimeout(() => {
      this.pending.delete(t)
      if (this.closed) return
      this.published.set(region, snapshot)
      this.syncConfig()
    }, this.opts.endpointDelayMs ?? 100)
    this.pending.add(t)
  }

  private async scale(region: string, n: number, initial: boolean): Promise<number> {
    const list = this.replicas.get(region)!
    this.record(region, 'replicas', `${list.length} -> ${n}`)
    if (n < list.length) {
      const gone = list.splice(n)
      // Endpoints go first (the endpoints controller drops terminating pods), then the pods stop.
      this.publish(region)
      await Promise.all(gone.map((r) => r.stop()))
    } else if (n > list.length) {
      const spec = this.opts.regions[region]
      const fresh: Replica[] = []
      for (let i = list.length; i < n; i++) {
        const r = new Replica({ region, version: spec.version ?? 'v1', instance: `${this.service}-${region}-${(++this.seq).toString(36)}` })
        await r.start()
        fresh.push(r)
      }
      if (!initial && (this.opts.readyDelayMs ?? 0) > 0) await sleep(this.opts.readyDelayMs!)
      list.push(...fresh)
      if (!initial) this.publish(region)
    }
    return list.length
  }

  /** Hands a region's replica count to its cluster's deployment; installs Istio's objects there. */
  attachKube(cluster: WorkloadHost, region: string, o: { namespace: string; name: string }): void {
    cluster.addWorkload({
      kind: 'Deployment',
      namespace: o.namespace,
      name: o.name,
      replicas: this.replicas.get(region)!.length,
      labels: { app: o.name, region },
      containers: [{ name: o.name, ports: [POD_PORT] }],
      onReplicas: async (c) => this.setReplicas(region, c.replicas)
    })
    const k = cluster as WorkloadHost
    if (!KINDS.some(([resource]) => k.list(resource, this.namespace).length)) {
      for (const obj of defaultObjects({ namespace: this.namespace, service: this.service, weights: this.weights(), outlier: this.opts.outlierDetection })) k.apply(obj as never)
    }
    this.kube.set(region, k)
  }

  /** Ground truth: the first event of a region at or after `since`. */
  truthAfter(region: string, event: GroundTruthEvent['event'], since: number): number | undefined {
    return this.truth.find((e) => e.region === region && e.event === event && e.at >= since)?.at
  }

  async close(): Promise<void> {
    this.closed = true
    for (const t of this.pending) clearTimeout(t)
    this.pending.clear()
    await Promise.all(this.loops)
    await Promise.all([...this.gateways.values()].map((g) => g.close()))
    await Promise.all([...this.replicas.values()].flat().map((r) => r.stop()))
    rmSync(this.dir, { recursive: true, force: true })
  }
}
