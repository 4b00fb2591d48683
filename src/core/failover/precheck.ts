// Prechecks on the ingress's configuration, where it can be read (an Istio-style JSON: route
// weights, localityLbSetting, outlierDetection, endpoint counts). Pure: config in, findings out.
import type { FaultMode } from './plan.ts'

export interface Finding {
  level: 'error' | 'warning'
  message: string
  fix: string
}

export interface IngressConfigView {
  routes?: Array<{ region: string; weight: number }>
  localityLbSetting?: { enabled?: boolean; distribute?: unknown[]; failover?: Array<{ from: string; to: string }> }
  outlierDetection?: { consecutive5xxErrors?: number; interval?: string; baseEjectionTime?: string; maxEjectionPercent?: number }
  endpoints?: Record<string, number>
}

export function precheck(cfg: IngressConfigView, expected: Record<string, number>, mode: FaultMode, faultRegion?: string): Finding[] {
  const out: Finding[] = []
  const lb = cfg.localityLbSetting ?? {}
  const hasDistribute = Array.isArray(lb.distribute) && lb.distribute.length > 0
  const hasFailover = Array.isArray(lb.failover) && lb.failover.length > 0
  if (hasDistribute && hasFailover) {
    out.push({ level: 'error', message: 'the ingress sets both localityLbSetting.distribute and .failover', fix: 'they are mutually exclusive: keep failover and do the weighted split with route weights' })
  }
  const routes = new Map((cfg.routes ?? []).map((r) => [r.region, r.weight]))
  if (routes.size) {
    const total = [...routes.values()].reduce((a, b) => a + b, 0)
    for (const [r, p] of Object.entries(expected)) {
      const w = routes.get(r)
      if (w === undefined) out.push({ level: 'error', message: `the ingress has no route to region ${r} (expected share ${(p * 100).toFixed(1)}%)`, fix: `add a route for ${r} or correct input weights` })
      else if (w === 0 && p > 0) out.push({ level: 'error', message: `region ${r} has weight 0 at the ingress: it never gets traffic (expected ${(p * 100).toFixed(1)}%)`, fix: `give ${r} a weight, or set its expected weight to 0` })
      else if (w > 0 && p === 0) out.push({ level: 'error', message: `region ${r} has weight ${w} at the ingress but expected share 0`, fix: 'align input weights with the ingress routes' })
      else if (total > 0 && Math.abs(w / total - p) > 1e-6) {
        out.push({ level: 'warning', message: `the ingress routes ${((w / total) * 100).toFixed(1)}% to ${r}, the expected share is ${(p * 100).toFixed(1)}%`, fix: 'the split check will decide; align the weights if the difference is not intended' })
      }
    }
  }
  if (mode !== 'none') {
    const od = cfg.outlierDetection
    if (!od) {
      out.push({ level: 'error', message: 'the ingress has no outlierDetection: locality failover is not active without it', fix: 'configure outlierDetection (e.g. consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 1m)' })
    }
    if (faultRegion && !hasFailover) {
      out.push({ level: 'error', message: `no localityLbSetting.failover: traffic for ${faultRegion} has nowhere to go when it fails`, fix: `add failover: [{ from: ${faultRegion}, to: <another region> }]` })
    } else if (faultRegion && hasFailover && !lb.failover!.some((f) => f.from === faultRegion)) {
      out.push({ level: 'error', message: `no failover entry from ${faultRegion}`, fix: `add { from: ${faultRegion}, to: <another region> }` })
    }
    if (mode === 'failing-pods' && od && faultRegion && cfg.endpoints) {
      const total = Object.values(cfg.endpoints).reduce((a, b) => a + b, 0)
      const mine = cfg.endpoints[faultRegion] ?? 0
      const max = od.maxEjectionPercent ?? 10
      const allowed = Math.floor((max * total) / 100 + 1e-9)
      if (allowed < mine) {
        out.push({
          level: 'error',
          message: `maxEjectionPercent ${max} lets outlier detection eject ${allowed} of ${total} endpoints, but ${faultRegion} has ${mine}: its failing pods would keep receiving traffic`,
          fix: `raise maxEjectionPercent to at least ${Math.ceil((mine * 100) / total)} (Istio's default is 10)`
        })
      }
    }
  }
  return out
}
