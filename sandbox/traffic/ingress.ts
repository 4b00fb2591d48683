// The ingress double: an HTTP proxy on 127.0.0.1 in front of the regional replicas, with the
// behaviour a mesh ingress has and the action must measure:
//   - weighted distribution across regions (route weights, as a VirtualService split),
//   - endpoint-based failover: a region with no healthy endpoint gives its share to the regions
//     that have one (locality failover), or 503 "no healthy upstream" when failover is off,
//   - outlier detection: `consecutive5xxErrors` 5xx (or connect failures) in a row eject an
//     endpoint for baseEjectionTime x (times ejected), within maxEjectionPercent of all endpoints.
// It records ground truth: when each region lost and regained capacity (a healthy endpoint as
// this ingress sees it), and exposes its configuration at GET /__admin/config for prechecks.
import { createServer, request as httpRequest, Agent, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { seededRandom, weightedPick } from '../../src/core/failover/random.ts'

export interface OutlierDetection {
  consecutive5xxErrors: number
  intervalMs: number
  baseEjectionTimeMs: number
  maxEjectionPercent: number
}

export interface IngressConfig {
  /** Route weights per region (any scale; 0 = never chosen). */
  weights: Record<string, number>
  /** Locality failover: a region without healthy endpoints hands its share to the others. */
  failover: boolean
  /** Also set a locality `distribute` (a misconfiguration the precheck must catch: not both). */
  distribute?: boolean
  outlierDetection?: OutlierDetection
  /** Seed for the weighted choice (reproducible splits); default random. */
  seed?: number
}

export interface Endpoint {
  id: string
  region: string
  url: string
  consecutive5xx: number
  ejections: number
  ejectedUntil: number
}

export interface GroundTruthEvent {
  at: number
  region: string
  event: 'capacity-lost' | 'capacity-regained' | 'ejected' | 'returned' | 'endpoints' | 'replicas' | 'failing'
  detail: string
}

export class Ingress {
  readonly config: IngressConfig
  readonly endpoints = new Map<string, Endpoint[]>()
  readonly truth: GroundTruthEvent[] = []
  readonly stats = { requests: 0, byRegion: {} as Record<string, number>, noUpstream: 0, upstreamErrors: 0, admin: 0 }
  private server?: Server
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 })
  private readonly rand: () => number
  private readonly rr = new Map<string, number>()
  private readonly hadCapacity = new Map<string, boolean>()
  private sweeper?: NodeJS.Timeout
  port = 0
  /** Extra admin routes (the world's fault switches): return a body, or undefined for 404. */
  onAdmin?: (method: string, path: string) => unknown

  constructor(config: IngressConfig) {
    this.config = config
    this.rand = config.seed === undefined ? Math.random : seededRandom(config.seed)
    for (const r of Object.keys(config.weights)) {
      this.endpoints.set(r, [])
      this.hadCapacity.set(r, false)
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  record(region: string, event: GroundTruthEvent['event'], detail: string, at = Date.now()): void {
    this.truth.push({ at, region, event, detail })
  }

  /** Healthy endpoints of a region now: present in the endpoint set and not ejected. */
  healthy(region: string, now = Date.now()): Endpoint[] {
    return (this.endpoints.get(region) ?? []).filter((e) => e.ejectedUntil <= now)
  }

  /** Records capacity-lost / capacity-regained transitions (called on every change and by a sweeper). */
  private checkCapacity(now = Date.now()): void {
    for (const r of this.endpoints.keys()) {
      for (const e of this.endpoints.get(r)!) {
        if (e.ejectedUntil !== 0 && e.ejectedUntil <= now) {
          e.ejectedUntil = 0
          e.consecutive5xx = 0
          this.record(r, 'returned', `${e.id} back from ejection`, now)
        }
      }
      const has = this.healthy(r, now).length > 0
      if (has !== this.hadCapacity.get(r)) {
        this.hadCapacity.set(r, has)
        this.record(r, has ? 'capacity-regained' : 'capacity-lost', has ? 'a healthy endpoint is back' : 'no healthy endpoint left', now)
      }
    }
  }

  /** Replaces a region's endpoint set (what an EDS push does). */
  setEndpoints(region: string, list: Array<{ id: string; url: string }>): void {
    const old = new Map((this.endpoints.get(region) ?? []).map((e) => [e.id, e]))
    this.endpoints.set(
      region,
      list.map((x) => old.get(x.id) ?? { id: x.id, region, url: x.url, consecutive5xx: 0, ejections: 0, ejectedUntil: 0 })
    )
    this.record(region, 'endpoints', `${list.length} endpoint(s)`)
    this.checkCapacity()
  }

  private ejectedCount(now: number): number {
    let n = 0
    for (const list of this.endpoints.values()) for (const e of list) if (e.ejectedUntil > now) n++
    return n
  }

  private totalEndpoints(): number {
    let n = 0
    for (const list of this.endpoints.values()) n += list.length
    return n
  }

  private outcome(e: Endpoint, fivexx: boolean): void {
    const od = this.config.outlierDetection
    if (!fivexx) {
      e.consecutive5xx = 0
      return
    }
    e.consecutive5xx++
    if (!od || e.consecutive5xx < od.consecutive5xxErrors) return
    const now = Date.now()
    if (e.ejectedUntil > now) return
    const ejected = this.ejectedCount(now)
    // Eject only while the ejected share stays within maxEjectionPercent of all endpoints.
    if (((ejected + 1) * 100) / this.totalEndpoints() > od.maxEjectionPercent) return
    e.ejections++
    e.ejectedUntil = now + od.baseEjectionTimeMs * e.ejections
    e.consecutive5xx = 0
    this.record(e.region, 'ejected', `${e.id} for ${od.baseEjectionTimeMs * e.ejections}ms`, now)
    this.checkCapacity(now)
  }

  /** The region for the next request, or undefined (no healthy upstream). */
  route(now = Date.now()): string | undefined {
    const w = this.config.weights
    const chosen = weightedPick(w, this.rand)
    if (chosen === undefined) return undefined
    if (this.healthy(chosen, now).length > 0) return chosen
    if (!this.config.failover) return undefined
    const alive: Record<string, number> = {}
    for (const [r, x] of Object.entries(w)) if (r !== chosen && this.healthy(r, now).length > 0) alive[r] = x > 0 ? x : 0
    return weightedPick(alive, this.rand)
  }

  adminConfig(): unknown {
    const od = this.config.outlierDetection
    const regions = Object.keys(this.config.weights)
    return {
      kind: 'sandbox-ingress',
      routes: regions.map((r) => ({ region: r, weight: this.config.weights[r] })),
      localityLbSetting: {
        enabled: true,
        distribute: this.config.distribute ? [{ from: '*', to: Object.fromEntries(regions.map((r) => [r, this.config.weights[r]])) }] : undefined,
        failover: this.config.failover ? regions.flatMap((a) => regions.filter((b) => b !== a).map((b) => ({ from: a, to: b }))) : undefined
      },
      outlierDetection: od
        ? { consecutive5xxErrors: od.consecutive5xxErrors, interval: `${od.intervalMs}ms`, baseEjectionTime: `${od.baseEjectionTimeMs}ms`, maxEjectionPercent: od.maxEjectionPercent }
        : undefined,
      endpoints: Object.fromEntries(regions.map((r) => [r, (this.endpoints.get(r) ?? []).length]))
    }
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/__admin/')) {
        this.stats.admin++
        req.resume()
        const body =
          req.url === '/__admin/config'
            ? this.adminConfig()
            : req.url === '/__admin/truth'
              ? this.truth
              : req.url === '/__admin/stats'
                ? this.stats
                : this.onAdmin?.(req.method ?? 'GET', req.url!)
        if (body === undefined) res.writeHead(404).end()
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
        return
      }
      this.stats.requests++
      const now = Date.now()
      const region = this.route(now)
      if (!region) {
        this.stats.noUpstream++
        req.resume()
        res.writeHead(503, { 'content-type': 'text/plain' }).end('no healthy upstream')
        return
      }
      const list = this.healthy(region, now)
      const i = (this.rr.get(region) ?? 0) % list.length
      this.rr.set(region, i + 1)
      const ep = list[i]
      const up = httpRequest(ep.url + (req.url ?? '/'), { method: req.method, headers: { ...req.headers, host: '127.0.0.1' }, agent: this.agent }, (ur) => {
        const status = ur.statusCode ?? 502
        this.outcome(ep, status >= 500)
        if (status < 500) this.stats.byRegion[region] = (this.stats.byRegion[region] ?? 0) + 1
        res.writeHead(status, ur.headers)
        ur.pipe(res)
      })
      up.on('error', (err) => {
        this.stats.upstreamErrors++
        this.outcome(ep, true)
        if (!res.headersSent) res.writeHead(503, { 'content-type': 'text/plain' }).end(`upstream connect error or disconnect/reset before headers. reset reason: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
        else res.destroy()
      })
      req.pipe(up)
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    this.port = (server.address() as AddressInfo).port
    this.server = server
    this.sweeper = setInterval(() => this.checkCapacity(), 5)
    this.sweeper.unref()
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper)
    this.agent.destroy()
    const s = this.server
    this.server = undefined
    if (s) {
      await new Promise<void>((resolve) => {
        s.close(() => resolve())
        s.closeAllConnections()
      })
    }
  }
}
