// Istio's traffic objects (networking.istio.io/v1 Gateway, VirtualService, DestinationRule) turned
// into the Envoy configuration istiod pushes to an ingress gateway in a given locality, following
// Istio's documented semantics (pilot/pkg/networking/core/loadbalancer):
//   - localityLbSetting.failover -> EDS priorities relative to the gateway's locality (0 same
//     region and zone, 1 same region, then the regions a failover rule names, then the rest),
//     only with outlierDetection (without it istiod leaves locality failover off);
//   - localityLbSetting.distribute -> load_balancing_weight per locality and
//     locality_weighted_lb_config; localities it does not name get no endpoints;
//   - outlierDetection -> outlier_detection (consecutive 5xx, interval, base ejection time, max
//     ejection percent only when > 0; success-rate ejection off);
//   - VirtualService route weights -> weighted clusters; a subset is its own cluster
//     (outbound|<port>|<subset>|<host>), so traffic never fails over between subsets.
// Both distribute and failover set: istiod's validation rejects the rule; here the rule's locality
// settings are ignored (no locality LB), as a rejected object never reaches Envoy.
// Pure: objects and endpoints in, Envoy resources out.

export type Obj = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Locality {
  region: string
  zone: string
}

export interface MeshEndpoint {
  address: string
  port: number
  /** the Kubernetes service (FQDN) the endpoint belongs to */
  host: string
  labels: Record<string, string>
  locality: Locality
}

export interface IstioObjects {
  gateways: Obj[]
  virtualServices: Obj[]
  destinationRules: Obj[]
}

export interface EnvoyConfig {
  listeners: Obj[]
  clusters: Obj[]
  /** cluster name -> ClusterLoadAssignment */
  assignments: Map<string, Obj>
}

const SERVICE_PORT = 80

/** Istio's duration strings (1s, 100ms, 1m, 1h) as Envoy's protobuf JSON duration ("1.5s"). */
export function protoDuration(text: unknown, fallbackMs: number): string {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(String(text ?? ''))
  const ms = m ? Number(m[1]) * { ms: 1, s: 1000, m: 60000, h: 3600000 }[m[2] as 'ms']! : fallbackMs
  return `${(ms / 1000).toFixed(3)}s`
}

export function fqdn(host: string, namespace: string): string {
  return host.includes('.') ? host : `${host}.${namespace}.svc.cluster.local`
}

export function clusterName(host: string, subset = ''): string {
  return `outbound|${SERVICE_PORT}|${subset}|${host}`
}

/** "region/zone/subzone" patterns of localityLbSetting, with * wildcards. */
function localityMatches(pattern: string, l: Locality): boolean {
  const [r = '*', z = '*'] = pattern.split('/')
  const ok = (p: string, v: string): boolean => p === '*' || p === v
  return ok(r, l.region) && ok(z, l.zone)
}

function ruleFor(host: string, rules: Obj[]): Obj | undefined {
  return rules.find((d) => fqdn(String(d.spec?.host ?? ''), String(d.metadata?.namespace ?? 'default')) === host)
}

function outlierDetection(od: Obj | undefined): Obj | undefined {
  if (!od) return undefined
  const out: Obj = {
    consecutive_5xx: od.consecutive5xxErrors ?? od.consecutiveErrors ?? 5,
    enforcing_consecutive_5xx: 100,
    interval: protoDuration(od.interval, 10000),
    base_ejection_time: protoDuration(od.baseEjectionTime, 30000),
    enforcing_success_rate: 0,
    consecutive_gateway_failure: od.consecutiveGatewayErrors ?? 0,
    enforcing_consecutive_gateway_failure: od.consecutiveGatewayErrors ? 100 : 0
  }
  if ((od.maxEjectionPercent ?? 0) > 0) out.max_ejection_percent = od.maxEjectionPercent
  return out
}

/** Priority of an endpoint's locality for a gateway, as istiod's failover applies it (not yet renumbered). */
function failoverPriority(gw: Locality, l: Locality, failover: Obj[]): number {
  if (l.region === gw.region) return l.zone === gw.zone ? 0 : 1
  const named = failover.some((f) => String(f.from) === gw.region && String(f.to) === l.region)
  return named ? 2 : 3
}

function assignment(name: string, eps: MeshEndpoint[], gw: Locality, lb: Obj | undefined, outlier: boolean): Obj {
  const distribute = (lb?.distribute ?? []) as Obj[]
  const failover = (lb?.failover ?? []) as Obj[]
  const enabled = lb?.enabled !== false && !(distribute.length && failover.length)
  const byLocality = new Map<string, { l: Locality; eps: MeshEndpoint[] }>()
  for (const e of eps) {
    const k = `${e.locality.region}/${e.locality.zone}`
    if (!byLocality.has(k)) byLocality.set(k, { l: e.locality, eps: [] })
    byLocality.get(k)!.eps.push(e)
  }
  const rule = enabled && distribute.length ? distribute.find((d) => localityMatches(String(d.from ?? '*'), gw)) : undefined
  const groups: Obj[] = []
  for (const { l, eps: list } of byLocality.values()) {
    const g: Obj = {
      locality: { region: l.region, zone: l.zone },
      lb_endpoints: list.map((e) => ({ endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } }, health_status: 'HEALTHY' }))
    }
    if (rule) {
      // The weight of the first `to` entry that matches, split over the localities it matches.
      const entry = Object.entries((rule.to ?? {}) as Record<string, number>).find(([p]) => localityMatches(p, l))
      if (!entry || !(entry[1] > 0)) continue
      const sharing = [...byLocality.values()].filter((x) => localityMatches(entry[0], x.l)).length
      g.load_balancing_weight = Math.max(1, Math.round((entry[1] * 1000) / sharing))
    } else if (enabled && outlier) {
      g.priority = failoverPriority(gw, l, failover)
    }
    groups.push(g)
  }
  // Priorities renumbered 0..N without gaps, as istiod does.
  const used = [...new Set(groups.map((g) => g.priority ?? 0))].sort((a, b) => a - b)
  for (const g of groups) if (g.priority !== undefined) g.priority = used.indexOf(g.priority)
  return { '@type': 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment', cluster_name: name, endpoints: groups }
}

function subsetLabels(dr: Obj | undefined, subset: string): Record<string, string> | undefined {
  const s = ((dr?.spec?.subsets ?? []) as Obj[]).find((x) => x.name === subset)
  return s ? ((s.labels ?? {}) as Record<string, string>) : undefined
}

/** The gateway's listener, clusters and load assignments. */
export function translate(o: IstioObjects, gw: Locality & { namespace: string; port: number }, endpoints: MeshEndpoint[]): EnvoyConfig {
  const assignments = new Map<string, Obj>()
  const clusters: Obj[] = []
  const cluster = (host: string, subset: string): string | undefined => {
    const name = clusterName(host, subset)
    if (assignments.has(name)) return name
    const dr = ruleFor(host, o.destinationRules)
    const labels = subset ? subsetLabels(dr, subset) : {}
    if (!labels) return undefined // an unknown subset: istiod builds no cluster, the route answers 503
    const tp = (dr?.spec?.trafficPolicy ?? {}) as Obj
    const lb = tp.loadBalancer?.localityLbSetting as Obj | undefined
    const od = outlierDetection(tp.outlierDetection)
    const eps = endpoints.filter((e) => e.host === host && Object.entries(labels).every(([k, v]) => e.labels[k] === v))
    // update_merge_window 0: Envoy's default (1 s) batches host health changes after a first one,
    // which at the sandbox's millisecond time scale would hide the second ejection for a while.
    const c: Obj = {
      '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
      name,
      type: 'EDS',
      connect_timeout: '1s',
      eds_cluster_config: { service_name: name },
      common_lb_config: { healthy_panic_threshold: { value: tp.loadBalancer?.localityLbSetting?.minHealthPercent ?? 0 }, update_merge_window: '0s' }
    }
    const a = assignment(name, eps, gw, lb, od !== undefined)
    if (a.endpoints.some((g: Obj) => g.load_balancing_weight !== undefined)) {
      c.load_balancing_policy = {
        policies: [
          {
            typed_extension_config: {
              name: 'envoy.load_balancing_policies.round_robin',
              typed_config: { '@type': 'type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin', locality_lb_config: { locality_weighted_lb_config: {} } }
            }
          }
        ]
      }
    }
    if (od) c.outlier_detection = od
    clusters.push(c)
    assignments.set(name, a)
    return name
  }
  const routes: Obj[] = []
  const bound = o.virtualServices.filter((vs) => {
    const ns = String(vs.metadata?.namespace ?? 'default')
    return ((vs.spec?.gateways ?? []) as string[]).some((g) => o.gateways.some((x) => x.metadata?.name === (g.includes('/') ? g.split('/')[1] : g) && (g.includes('/') ? g.split('/')[0] : ns) === x.metadata?.namespace))
  })
  for (const vs of bound) {
    const ns = String(vs.metadata?.namespace ?? 'default')
    for (const http of (vs.spec?.http ?? []) as Obj[]) {
      const dests = ((http.route ?? []) as Obj[]).map((r) => ({ name: cluster(fqdn(String(r.destination?.host ?? ''), ns), String(r.destination?.subset ?? '')), weight: r.weight ?? (http.route.length === 1 ? 100 : 0) }))
      const live = dests.filter((d) => d.weight > 0)
      const prefix = String(((http.match ?? [])[0] as Obj | undefined)?.uri?.prefix ?? '/')
      let action: Obj
      if (live.length === 0 || live.some((d) => d.name === undefined)) action = { direct_response: { status: 503, body: { inline_string: 'no healthy upstream' } } }
      else if (live.length === 1) action = { route: { cluster: live[0].name, timeout: '5s' } }
      else action = { route: { weighted_clusters: { clusters: live.map((d) => ({ name: d.name, weight: d.weight })) }, timeout: '5s' } }
      routes.push({ match: { prefix }, ...action })
    }
  }
  const listeners: Obj[] = o.gateways.length
    ? [
        {
          '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener',
          name: `0.0.0.0_${gw.port}`,
          address: { socket_address: { address: '127.0.0.1', port_value: gw.port } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'ingress',
                    route_config: { name: 'http.80', virtual_hosts: [{ name: 'all', domains: ['*'], routes }] },
                    http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }]
                  }
                }
              ]
            }
          ]
        }
      ]
    : []
  return { listeners, clusters, assignments }
}

/** The objects an operator would apply for a weighted split that also fails over (distribute). */
export function defaultObjects(o: { namespace: string; service: string; weights: Record<string, number>; outlier?: Obj | null }): Obj[] {
  const meta = (name: string): Obj => ({ name, namespace: o.namespace })
  const total = Object.values(o.weights).reduce((a, b) => a + b, 0) || 1
  // distribute weights must sum to 100: scale, then give the rounding rest to the largest
  const to: Record<string, number> = {}
  for (const [r, w] of Object.entries(o.weights)) if (w > 0) to[`${r}/*`] = Math.round((w * 100) / total)
  const rest = 100 - Object.values(to).reduce((a, b) => a + b, 0)
  const top = Object.keys(to).sort((a, b) => to[b] - to[a])[0]
  if (top) to[top] += rest
  return [
    { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: meta(`${o.service}-gateway`), spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] } },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: meta(o.service),
      spec: { hosts: ['*'], gateways: [`${o.service}-gateway`], http: [{ route: [{ destination: { host: o.service, port: { number: 80 } } }] }] }
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: meta(o.service),
      spec: {
        host: o.service,
        trafficPolicy: {
          loadBalancer: { simple: 'ROUND_ROBIN', localityLbSetting: { enabled: true, distribute: [{ from: '*', to }] } },
          ...(o.outlier === null ? {} : { outlierDetection: o.outlier ?? { consecutive5xxErrors: 1, interval: '100ms', baseEjectionTime: '30s', maxEjectionPercent: 100 } })
        }
      }
    }
  ]
}
