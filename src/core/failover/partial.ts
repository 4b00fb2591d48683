// Partial failure (input chaos-pods): some of a region's pods fail through an HTTPChaos (Chaos Mesh
// mode fixed), Envoy ejects them (outlier detection) and, under Istio's
// localityLbSetting.distribute (Envoy's locality weighted load balancing), moves part of that
// region's traffic to the other localities. Envoy's rule, with the overprovisioning factor 140 that
// Istio never changes: a locality's effective weight is its configured weight times
// min(1, 1.4 x its healthy fraction), normalised over the localities. With 50/50 and 1 of 2 eastus
// pods ejected, eastus keeps 50 x 0.7 = 35 against 50: 35 / 85 = 41.2%.
//
// The action predicts that split from what it reads (the DestinationRule's distribute weights, the
// fault region's ready replicas, how many pods the HTTPChaos selects), measures the split while the
// fault holds (after the transition, `abort-window` after the fault) and decides with the split
// test (stats.ts) whether the measurement fits the prediction, tested against the two ways the
// prediction would be wrong: nothing moved (the configured split) and no spill (each locality
// weighted by its healthy fraction alone, i.e. no overprovisioning).
import { PreflightError } from '../errors.ts'
import type { Kubectl } from '../kube/kubectl.ts'
import type { Report } from '../report.ts'
import type { KubeFaultTarget } from './plan.ts'
import { defaultAlternatives, pct, shareRows, splitVerdict, SplitSprt, type Alternative, type SplitVerdict, type SprtOptions } from './stats.ts'
import type { Probe } from './timing.ts'

/** Envoy's default overprovisioning factor (140%), which Istio does not set. */
export const OVERPROVISIONING_FACTOR = 1.4
/** An alternative closer than this to the predicted share is not tested: no sample the drill can afford tells them apart. */
export const MIN_DISTANCE = 0.02

/** Envoy's locality weighting: weight x min(1, factor x healthy fraction), normalised. */
export function localityShares(weights: Record<string, number>, healthy: Record<string, number>, factor = OVERPROVISIONING_FACTOR): Record<string, number> {
  const effective = Object.entries(weights).map(([r, w]) => [r, w * Math.min(1, factor * (healthy[r] ?? 1))] as const)
  const total = effective.reduce((a, [, w]) => a + w, 0)
  if (!(total > 0)) throw new RangeError('no locality has a healthy weight left')
  return Object.fromEntries(effective.map(([r, w]) => [r, w / total]))
}

export interface PartialPrediction {
  region: string
  /** ready replicas of the fault region's deployment before the fault */
  ready: number
  /** pods the HTTPChaos selects (chaos-pods, at most `ready`) */
  failing: number
  /** where the locality weights come from (object and field) */
  weightsFrom: string
  /** the configured locality weights, normalised */
  configured: Record<string, number>
  /** healthy fraction per region once Envoy has ejected the failing pods */
  healthy: Record<string, number>
  /** Envoy's split: the expectation of the split test */
  predicted: Record<string, number>
  /** the same without the overprovisioning factor (factor 1): an alternative */
  noSpill: Record<string, number>
  alternatives: Alternative[]
}

export function predictPartial(o: { regions: string[]; region: string; ready: number; failing: number; weights: Record<string, number>; weightsFrom: string }): PartialPrediction {
  const weights = Object.fromEntries(o.regions.map((r) => [r, o.weights[r] ?? 0]))
  const healthy = Object.fromEntries(o.regions.map((r) => [r, r === o.region ? (o.ready - o.failing) / o.ready : 1]))
  const configured = localityShares(weights, {})
  const predicted = localityShares(weights, healthy)
  const noSpill = localityShares(weights, healthy, 1)
  const p = predicted[o.region]
  const alternatives: Alternative[] = []
  for (const share of [configured[o.region], noSpill[o.region]]) {
    if (share > 0 && share < 1 && Math.abs(share - p) >= MIN_DISTANCE && !alternatives.some((a) => a.share === share)) alternatives.push({ region: o.region, share })
  }
  return { region: o.region, ready: o.ready, failing: o.failing, weightsFrom: o.weightsFrom, configured, healthy, predicted, noSpill, alternatives: alternatives.length ? alternatives : defaultAlternatives(predicted) }
}

/**
 * Reads the fault region's ready replicas and predicts the split; undefined when chaos-pods covers
 * every ready pod (then it is a whole-region failover, measured as one).
 */
export async function readPartial(
  kubectl: Kubectl,
  k: KubeFaultTarget,
  o: { regions: string[]; region: string; pods: number; locality?: { weights: Record<string, number>; from: string } }
): Promise<PartialPrediction | undefined> {
  const d = await kubectl.getJson<{ spec?: { replicas?: number }; status?: { readyReplicas?: number } }>(['deployment', k.deployment], k.namespace)
  const ready = Math.min(d?.spec?.replicas ?? 0, d?.status?.readyReplicas ?? 0)
  if (o.pods >= ready) return undefined
  if (!o.locality) {
    throw new PreflightError(
      `chaos-pods ${o.pods} fails part of ${o.region}, but no DestinationRule in the mesh sets localityLbSetting.distribute: nothing to predict the shift from`,
      'give the service a DestinationRule with localityLbSetting.distribute (the weighted split), or omit chaos-pods to fail the whole region'
    )
  }
  return predictPartial({ regions: o.regions, region: o.region, ready, failing: o.pods, weights: o.locality.weights, weightsFrom: o.locality.from })
}

export interface PartialResult {
  /** the measurement window: probes sent from `from` (the transition over) to the end of the fault phase */
  from: number
  to: number
  n: number
  counts: Record<string, number>
  errors: Record<string, number>
  errorsTotal: number
  verdict: SplitVerdict
  arms: SplitSprt['arms']
}

/** The split while the fault held, tested against the prediction (SPRT; the fixed-N test if it did not decide). */
export function measurePartial(probes: Probe[], from: number, p: PartialPrediction, o: SprtOptions): PartialResult {
  const sprt = new SplitSprt(p.predicted, p.alternatives, o)
  const errors: Record<string, number> = {}
  let errorsTotal = 0
  const window = probes.filter((x) => x.t >= from)
  for (const x of window) {
    if (x.kind === 'ok' && x.region !== undefined && x.region in p.predicted) sprt.observe(x.region)
    else if (x.kind !== 'ok') {
      errors[x.kind] = (errors[x.kind] ?? 0) + 1
      errorsTotal++
    }
  }
  const verdict: SplitVerdict = sprt.n ? splitVerdict(sprt, p.alternatives, o) : { decision: 'fail', reason: 'no classified response while the fault held', method: '-' }
  return { from, to: window.length ? window[window.length - 1].t : from, n: sprt.n, counts: { ...sprt.counts }, errors, errorsTotal, verdict, arms: sprt.arms }
}

/** The phase table, the verdict, the outputs (partial-verdict, -predicted, -shares) and the JSON report's `partial`. */
export function reportPartial(report: Report, p: PartialPrediction, r: PartialResult, alpha: number): void {
  const regions = Object.keys(p.predicted)
  const ok = r.verdict.decision === 'pass'
  const rows = shareRows(regions, p.predicted, r.counts, alpha).map((row, i) => [row[0], pct(p.configured[regions[i]]), pct(p.healthy[regions[i]]), ...row.slice(1)])
  report.table(
    `Partial failure: ${ok ? 'PASS' : r.verdict.decision.toUpperCase()} (${p.failing} of ${p.ready} ${p.region} pods failing; N = ${r.n}, ${r.verdict.method})`,
    ['region', 'configured', 'healthy', 'predicted (Envoy)', 'responses', 'measured', `${pct(1 - alpha)} Clopper-Pearson`, 'predicted inside'],
    rows
  )
  const errs = Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'
  report.note(
    `**Partial failure: ${r.verdict.decision}** - ${r.verdict.reason}. Predicted from ${p.weightsFrom} with ${p.failing} of ${p.ready} ${p.region} pods ejected: weight x min(1, ${OVERPROVISIONING_FACTOR} x healthy), normalised (Envoy's overprovisioning factor 140). ` +
      `Tested against ${p.alternatives.map((a) => `${a.region} ${pct(a.share)}`).join(', ')}. Window: ${((r.to - r.from) / 1000).toFixed(1)} s after the transition; errors in it: ${errs}.`
  )
  report.output('partial-verdict', r.verdict.decision)
  const round = (s: Record<string, number>): string => JSON.stringify(Object.fromEntries(Object.entries(s).map(([k, v]) => [k, +v.toFixed(4)])))
  report.output('partial-predicted', round(p.predicted))
  report.output('partial-shares', round(Object.fromEntries(regions.map((x) => [x, r.n ? r.counts[x] / r.n : 0]))))
  report.set('partial', { ...p, ...r })
}
