// Prechecks on the mesh's own objects (Istio DestinationRules and VirtualServices, as
// `kubectl get destinationrules,virtualservices -o json` returns them), by Istio's rules:
//   - localityLbSetting.distribute and .failover together: Istio's validation rejects the rule;
//   - failover without outlierDetection: istiod turns locality failover off, nothing fails over;
//   - fault-mode http-chaos (pods that stay up but fail) without outlierDetection, or with a
//     maxEjectionPercent (Istio's default 10) that cannot eject all the failing region's pods:
//     they keep receiving traffic;
//   - configured weights (distribute `to`, or route weights) that disagree with the expected split;
//   - a route split across per-region subsets: separate Envoy clusters, no failover between them.
// Each finding names the object and the field. Pure: objects in, findings out.
import type { FaultMode } from './plan.ts'

export interface Finding {
  level: 'error' | 'warning'
  message: string
  fix: string
}

type Obj = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

export interface MeshView {
  namespace: string
  destinationRules: Obj[]
  virtualServices: Obj[]
  /** running pods per region of the drilled service, where known (for maxEjectionPercent) */
  pods?: Record<string, number>
  /** chaos-pods: how many of the fault region's pods fail, when fewer than all */
  failing?: number
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`

function fqdn(host: string, ns: string): string {
  return host.includes('.') ? host : `${host}.${ns}.svc.cluster.local`
}

function name(kind: string, o: Obj): string {
  return `${kind} ${o.metadata?.namespace ?? '?'}/${o.metadata?.name ?? '?'}`
}

/** The region a distribute `to` key or a subset's labels point at. */
function regionOf(key: string): string {
  return key.split('/')[0]
}

/** The locality weights per region of a DestinationRule's first distribute rule (`to` keys region/zone/subzone); undefined without one. */
export function distributeWeights(dr: Obj): Record<string, number> | undefined {
  const rule = ((dr.spec?.trafficPolicy?.loadBalancer?.localityLbSetting?.distribute ?? []) as Obj[])[0]
  if (!rule) return undefined
  const weights: Record<string, number> = {}
  for (const [k, w] of Object.entries((rule.to ?? {}) as Record<string, number>)) weights[regionOf(k)] = (weights[regionOf(k)] ?? 0) + Number(w)
  return weights
}

function compare(where: string, field: string, weights: Record<string, number>, expected: Record<string, number>, out: Finding[]): void {
  const total = Object.values(weights).reduce((a, b) => a + b, 0)
  if (total <= 0) return
  const off = Object.keys(expected).filter((r) => Math.abs((weights[r] ?? 0) / total - expected[r]) > 1e-6)
  if (!off.length) return
  out.push({
    level: 'error',
    message: `${where}: ${field} gives ${Object.keys(expected).map((r) => `${r} ${pct((weights[r] ?? 0) / total)}`).join(', ')}; the expected split is ${Object.keys(expected).map((r) => `${r} ${pct(expected[r])}`).join(', ')}`,
    fix: `set ${field} to the expected weights, or correct input weights`
  })
}

export function precheck(mesh: MeshView, expected: Record<string, number>, mode: FaultMode, faultRegion?: string): Finding[] {
  const out: Finding[] = []
  // only failing pods (http-chaos) depend on outlier detection; scale-to-zero removes endpoints
  const failing = mode === 'http-chaos'
  // The VirtualService routes decide which hosts (and subsets) carry the traffic.
  const hosts = new Set<string>()
  for (const vs of mesh.virtualServices) {
    const ns = String(vs.metadata?.namespace ?? mesh.namespace)
    ;((vs.spec?.http ?? []) as Obj[]).forEach((http, i) => {
      const route = (http.route ?? []) as Obj[]
      for (const r of route) hosts.add(fqdn(String(r.destination?.host ?? ''), ns))
      const subsets = route.filter((r) => r.destination?.subset)
      if (route.length > 1 && subsets.length > 1) {
        const field = `spec.http[${i}].route`
        const weights: Record<string, number> = {}
        const dr = mesh.destinationRules.find((d) => fqdn(String(d.spec?.host ?? ''), String(d.metadata?.namespace ?? ns)) === fqdn(String(subsets[0].destination.host), ns))
        for (const r of route) {
          const labels = ((dr?.spec?.subsets ?? []) as Obj[]).find((s) => s.name === r.destination?.subset)?.labels ?? {}
          const region = String(labels['topology.kubernetes.io/region'] ?? labels.region ?? r.destination?.subset)
          weights[region] = (weights[region] ?? 0) + Number(r.weight ?? 0)
        }
        compare(name('VirtualService', vs), `${field}[].weight`, weights, expected, out)
        if (mode !== 'none') {
          out.push({
            level: 'error',
            message: `${name('VirtualService', vs)}: ${field} splits traffic across subsets ${subsets.map((r) => r.destination.subset).join(', ')}: each subset is its own Envoy cluster, so traffic for ${faultRegion ?? 'a failed region'} does not fail over to the others`,
            fix: 'route to the service without subsets and do the weighted split with the DestinationRule localityLbSetting.distribute'
          })
        }
      }
    })
  }
  const rules = mesh.destinationRules.filter((d) => !hosts.size || hosts.has(fqdn(String(d.spec?.host ?? ''), String(d.metadata?.namespace ?? mesh.namespace))))
  if (!rules.length && mode !== 'none') {
    out.push({
      level: 'error',
      message: `no DestinationRule in namespace ${mesh.namespace} for ${[...hosts].join(', ') || 'the routed service'}: no outlier detection, nothing marks a failed region's pods unhealthy`,
      fix: 'add a DestinationRule with trafficPolicy.outlierDetection (and localityLbSetting)'
    })
  }
  for (const dr of rules) {
    const n = name('DestinationRule', dr)
    const tp = (dr.spec?.trafficPolicy ?? {}) as Obj
    const lb = (tp.loadBalancer?.localityLbSetting ?? {}) as Obj
    const distribute = (lb.distribute ?? []) as Obj[]
    const failover = (lb.failover ?? []) as Obj[]
    const od = tp.outlierDetection as Obj | undefined
    const base = 'spec.trafficPolicy.loadBalancer.localityLbSetting'
    if (distribute.length && failover.length) {
      out.push({ level: 'error', message: `${n}: ${base} sets both distribute and failover; Istio rejects the rule`, fix: 'keep one: distribute for a weighted split that also fails over, failover for nearest-region routing' })
    }
    if (failover.length && !od) {
      out.push({ level: 'error', message: `${n}: ${base}.failover without spec.trafficPolicy.outlierDetection: istiod leaves locality failover off, so nothing fails over`, fix: 'add outlierDetection (e.g. consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s)' })
    }
    if (failing && !od && !failover.length) {
      out.push({ level: 'error', message: `${n}: no spec.trafficPolicy.outlierDetection: the pods http-chaos makes fail are never ejected and keep receiving traffic`, fix: 'add outlierDetection (consecutive5xxErrors, interval, baseEjectionTime, maxEjectionPercent)' })
    }
    if (failing && od && faultRegion && mesh.pods) {
      const total = Object.values(mesh.pods).reduce((a, b) => a + b, 0)
      const mine = Math.min(mesh.failing ?? Infinity, mesh.pods[faultRegion] ?? 0)
      const max = od.maxEjectionPercent ?? 10
      // Envoy ejects while ejected/total stays within the percentage, and always at least one host
      const allowed = Math.max(1, Math.floor((max * total) / 100 + 1e-9))
      if (total > 0 && allowed < mine) {
        out.push({
          level: 'error',
          message: `${n}: spec.trafficPolicy.outlierDetection.maxEjectionPercent ${od.maxEjectionPercent ?? 'unset (Istio default 10)'} lets Envoy eject ${allowed} of ${total} pods, but ${faultRegion} has ${mine}${mesh.failing !== undefined ? ' failing (chaos-pods)' : ''}: the pods http-chaos makes fail would keep receiving traffic`,
          fix: `raise maxEjectionPercent to at least ${Math.ceil((mine * 100) / total)}`
        })
      }
    }
    const weights = distributeWeights(dr)
    if (weights) compare(n, `${base}.distribute[0].to`, weights, expected, out)
  }
  // one error per mistake: a region without weight is already covered by the weight comparison
  return out.filter((f, i) => out.findIndex((g) => g.message === f.message) === i)
}
