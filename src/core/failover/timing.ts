// Failover timing from a probe log. Each probe is one request through the ingress: when it
// started, what it got (a region, or an error kind). All times are epoch milliseconds from the
// same clock as the fault's start, so the figures compare with an ingress's own ground truth.

export type ProbeKind = 'ok' | 'http-5xx' | 'http-4xx' | 'http-other' | 'timeout' | 'refused' | 'reset' | 'unclassified' | 'ambiguous' | 'error'

export interface Probe {
  seq: number
  /** When the request was sent (epoch ms). */
  t: number
  /** Latency in ms. */
  ms: number
  kind: ProbeKind
  status?: number
  /** The serving region, for kind 'ok'. */
  region?: string
  phase: string
  detail?: string
}

export interface FaultTiming {
  /** The last response from the failed region after the fault started (epoch ms), if any. */
  lastFailedAt?: number
  lastFailedMs?: number
  /**
   * Start of the first run of `k` consecutive survivor responses that comes after the last
   * response from the failed region and after the last error before it: from here on the
   * survivors serve alone. Undefined when no such run formed.
   */
  failoverAt?: number
  failoverMs?: number
  /** When the k-th response of that run arrived (request start + latency). */
  stableAt?: number
  stableMs?: number
  /** Errors by kind between the fault's start and failoverAt (or the end, without failover). */
  errors: Partial<Record<ProbeKind, number>>
  errorsTotal: number
  /** Errors and failed-region responses after failoverAt (0 when the failover held). */
  afterFailover: { probes: number; survivors: number; failedRegion: number; errors: number }
  probes: number
}

const isError = (p: Probe): boolean => p.kind !== 'ok'

/**
 * Measures a fault: `probes` are those sent from `faultAt` on (earlier ones are ignored),
 * ordered by start time.
 */
export function analyzeFault(probes: Probe[], faultAt: number, failedRegion: string, k: number): FaultTiming {
  const ps = probes.filter((p) => p.t >= faultAt).sort((a, b) => a.t - b.t)
  let lastFailed = -1
  ps.forEach((p, i) => {
    if (p.kind === 'ok' && p.region === failedRegion) lastFailed = i
  })
  // First run of k survivor responses after the last failed-region response.
  let runStart = -1
  let failoverIdx = -1
  for (let i = lastFailed + 1; i < ps.length; i++) {
    const p = ps[i]
    if (p.kind === 'ok' && p.region !== failedRegion) {
      if (runStart < 0) runStart = i
      if (i - runStart + 1 >= k) {
        failoverIdx = runStart
        break
      }
    } else {
      runStart = -1
    }
  }
  const out: FaultTiming = {
    errors: {},
    errorsTotal: 0,
    afterFailover: { probes: 0, survivors: 0, failedRegion: 0, errors: 0 },
    probes: ps.length
  }
  if (lastFailed >= 0) {
    out.lastFailedAt = ps[lastFailed].t
    out.lastFailedMs = ps[lastFailed].t - faultAt
  }
  const until = failoverIdx >= 0 ? failoverIdx : ps.length
  for (let i = 0; i < until; i++) {
    if (isError(ps[i])) {
      out.errors[ps[i].kind] = (out.errors[ps[i].kind] ?? 0) + 1
      out.errorsTotal++
    }
  }
  if (failoverIdx >= 0) {
    const f = ps[failoverIdx]
    const s = ps[failoverIdx + k - 1]
    out.failoverAt = f.t
    out.failoverMs = f.t - faultAt
    out.stableAt = s.t + s.ms
    out.stableMs = out.stableAt - faultAt
    for (const p of ps.slice(failoverIdx)) {
      out.afterFailover.probes++
      if (isError(p)) out.afterFailover.errors++
      else if (p.region === failedRegion) out.afterFailover.failedRegion++
      else out.afterFailover.survivors++
    }
  }
  return out
}

export interface RestoreTiming {
  /** First response from the restored region after the restore (epoch ms). */
  servedAt?: number
  restoreMs?: number
  errors: Partial<Record<ProbeKind, number>>
  probes: number
}

/** Time from `restoreAt` until the restored region answers a probe again. */
export function analyzeRestore(probes: Probe[], restoreAt: number, region: string): RestoreTiming {
  const ps = probes.filter((p) => p.t >= restoreAt).sort((a, b) => a.t - b.t)
  const out: RestoreTiming = { errors: {}, probes: ps.length }
  for (const p of ps) {
    if (p.kind === 'ok' && p.region === region) {
      out.servedAt = p.t
      out.restoreMs = p.t - restoreAt
      break
    }
    if (isError(p)) out.errors[p.kind] = (out.errors[p.kind] ?? 0) + 1
  }
  return out
}

/** Share per region in consecutive time buckets (for the chart). */
export function sharesOverTime(probes: Probe[], regions: string[], bucketMs: number, from: number): Array<{ at: number; n: number; shares: Record<string, number>; errors: number }> {
  const buckets = new Map<number, Probe[]>()
  for (const p of probes) {
    const b = Math.floor((p.t - from) / bucketMs)
    if (b < 0) continue
    if (!buckets.has(b)) buckets.set(b, [])
    buckets.get(b)!.push(p)
  }
  const last = Math.max(-1, ...buckets.keys())
  const out = []
  for (let b = 0; b <= last; b++) {
    const ps = buckets.get(b) ?? []
    const shares: Record<string, number> = {}
    for (const r of regions) shares[r] = ps.length ? ps.filter((p) => p.kind === 'ok' && p.region === r).length / ps.length : 0
    out.push({ at: b * bucketMs, n: ps.length, shares, errors: ps.filter(isError).length })
  }
  return out
}
