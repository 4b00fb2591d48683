// verify-failover with chaos-pods through the BUNDLE on real Envoy: 1 of 2 eastus pods fails under
// a 50/50 distribute. The action predicts the split from what it reads and measures it; this test
// judges both by the world: the DestinationRule in the kube double, Envoy's own /clusters health
// flags (failed_outlier_check) and its per-host rq_success counters over the action's window.
import { runAction } from '../../../sandbox/runner.ts'
import { NS, readReport, requireBundle, startDrill, writeTopology, type Drill } from './world.ts'

const INTERVAL = 20
const RUN_ENV = { GITHUB_SERVER_URL: 'https://github.com', GITHUB_RUN_ATTEMPT: '1' }

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>

interface Snapshot {
  t: number
  /** rq_success per region, summed over the primary gateway's hosts */
  served: Record<string, number>
  hosts: Record<string, number>
  /** hosts Envoy flags failed_outlier_check */
  ejected: Record<string, number>
}

/** Polls the primary gateway's admin API (/clusters?format=json) every 50 ms while the step runs. */
function watchEnvoy(drill: Drill): { snaps: Snapshot[]; stop: () => Promise<void> } {
  const snaps: Snapshot[] = []
  const admin = drill.world.gateways.get(drill.world.primary)!.adminUrl
  let on = true
  const loop = (async () => {
    while (on) {
      const t = Date.now()
      const body = (await fetch(`${admin}/clusters?format=json`).then((r) => r.json(), () => undefined)) as Json | undefined
      if (body) {
        const s: Snapshot = { t, served: {}, hosts: {}, ejected: {} }
        for (const c of body.cluster_statuses ?? []) {
          for (const h of c.host_statuses ?? []) {
            const r = String(h.locality?.region)
            s.served[r] = (s.served[r] ?? 0) + Number((h.stats ?? []).find((x: Json) => x.name === 'rq_success')?.value ?? 0)
            s.hosts[r] = (s.hosts[r] ?? 0) + 1
            s.ejected[r] = (s.ejected[r] ?? 0) + (h.health_status?.failed_outlier_check === true ? 1 : 0)
          }
        }
        snaps.push(s)
      }
      await new Promise((r) => setTimeout(r, 50))
    }
  })()
  return {
    snaps,
    stop: async () => {
      on = false
      await loop
    }
  }
}

/** Envoy's counters between the first snapshot after `from` and the last before `to`: eastus's share of the successes. */
function envoyShare(snaps: Snapshot[], from: number, to: number): { eastus: number; n: number; during: Snapshot[] } {
  const during = snaps.filter((s) => s.t >= from && s.t <= to)
  const a = during[0]
  const b = during[during.length - 1]
  const d = (r: string): number => (b.served[r] ?? 0) - (a.served[r] ?? 0)
  const n = d('eastus') + d('westeurope')
  return { eastus: d('eastus') / n, n, during }
}

/** This test's own reading of Envoy's rule from the world: distribute weights x min(1, 1.4 x healthy hosts / hosts), normalised. */
function envoyPrediction(drill: Drill, snap: Snapshot): Record<string, number> {
  const dr = drill.clusters.eastus.get('destinationrules', NS, 'helloworld') as Json
  const to = dr.spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to as Record<string, number>
  const eff = Object.entries(to).map(([k, w]) => {
    const r = k.split('/')[0]
    return [r, w * Math.min(1, (1.4 * (snap.hosts[r] - snap.ejected[r])) / snap.hosts[r])] as const
  })
  const total = eff.reduce((x, [, w]) => x + w, 0)
  return Object.fromEntries(eff.map(([r, w]) => [r, w / total]))
}

function inputs(drill: Drill): Record<string, string> {
  return {
    topology: writeTopology(drill),
    weights: 'eastus=50, westeurope=50',
    'fault-mode': 'http-chaos',
    'fault-region': 'eastus',
    'chaos-pods': '1',
    'fault-duration': '20s',
    'abort-window': '1s',
    'probe-interval': `${INTERVAL}ms`
  }
}

beforeAll(() => requireBundle())

describe('verify-failover partial failure (chaos-pods)', () => {
  let drill: Drill
  afterEach(async () => drill?.close())

  test("1 of 2 eastus pods fails under 50/50: Envoy ejects one host; the action's prediction is Envoy's rule on Envoy's own flags, and its measured split is Envoy's counters, within the split test's bounds", async () => {
    const outlier = { consecutive5xxErrors: 1, interval: '100ms', baseEjectionTime: '30s', maxEjectionPercent: 100 }
    drill = await startDrill({ regions: { eastus: { weight: 50, replicas: 2 }, westeurope: { weight: 50, replicas: 2 } }, outlierDetection: outlier })
    const chaos: Json[] = []
    const seen = setInterval(() => chaos.push(...(drill.clusters.eastus.list('httpchaos', NS) as Json[]).filter((o) => !chaos.some((c) => c.metadata.uid === o.metadata.uid))), 5)
    const envoy = watchEnvoy(drill)
    const step = await runAction('verify-failover', inputs(drill), { env: { ...drill.env, ...RUN_ENV } })
    clearInterval(seen)
    await envoy.stop()
    expect({ code: step.code, log: step.code === 0 ? '' : step.stdout.slice(-3000) }).toEqual({ code: 0, log: '' })
    // the object selects one pod (Chaos Mesh mode fixed), and the world failed exactly one
    expect(chaos).toHaveLength(1)
    expect(chaos[0].spec).toMatchObject({ mode: 'fixed', value: '1' })
    const faultAt = Number(step.outputs['fault-at'])
    expect(drill.world.truth.filter((e) => e.event === 'ejected' && e.at >= faultAt).map((e) => e.region)).toEqual(['eastus'])
    const partial = readReport(step).data.partial as Json
    const window = envoyShare(envoy.snaps, partial.from, partial.to)
    // Envoy's flags through the action's window: 1 of 2 eastus hosts ejected, the rest healthy
    expect(window.during.every((s) => s.ejected.eastus === 1 && s.hosts.eastus === 2 && s.ejected.westeurope === 0)).toBe(true)
    const truth = envoyPrediction(drill, window.during[0])
    expect(truth.eastus).toBeCloseTo(35 / 85, 6)
    const predicted = JSON.parse(step.outputs['partial-predicted'])
    expect(predicted.eastus).toBeCloseTo(truth.eastus, 3)
    // what the action measured is what Envoy counted in the same window (the counters' window edges are 50 ms apart)
    const measured = JSON.parse(step.outputs['partial-shares'])
    expect(Math.abs(measured.eastus - window.eastus)).toBeLessThan(0.02)
    expect(Math.abs(window.eastus - truth.eastus)).toBeLessThan(0.03)
    expect(partial.n).toBeGreaterThan(200)
    expect(step.outputs['partial-verdict']).toBe('pass')
    expect(step.outputs['failover-verdict']).toBe('pass')
    expect(step.outputs.verdict).toBe('pass')
    expect(step.summary).toMatch(/Partial failure: PASS \(1 of 2 eastus pods failing; N = \d+, SPRT/)
    expect(step.summary).toMatch(/\| eastus \| 50\.0% \| 50\.0% \| 41\.2% \|/)
    // restored: the object gone, no replica failing
    expect(drill.clusters.eastus.list('httpchaos', NS)).toEqual([])
    expect(drill.world.replicas.get('eastus')!.every((r) => r.fault === undefined)).toBe(true)
    expect(step.post?.code).toBe(0)
  })

  test('the same drill where Envoy never ejects (consecutive5xxErrors 1000): its flags show no ejection, its counters 1/3 for eastus, and the action fails the prediction', async () => {
    const outlier = { consecutive5xxErrors: 1000, interval: '100ms', baseEjectionTime: '30s', maxEjectionPercent: 100 }
    drill = await startDrill({ regions: { eastus: { weight: 50, replicas: 2 }, westeurope: { weight: 50, replicas: 2 } }, outlierDetection: outlier })
    const envoy = watchEnvoy(drill)
    const step = await runAction('verify-failover', { ...inputs(drill), 'fault-duration': '15s' }, { env: { ...drill.env, ...RUN_ENV } })
    await envoy.stop()
    expect(step.code).toBe(1)
    const partial = readReport(step).data.partial as Json
    const window = envoyShare(envoy.snaps, partial.from, partial.to)
    expect(window.during.every((s) => s.ejected.eastus === 0)).toBe(true)
    // Envoy's rule on its own flags: nothing ejected, nothing moves (50%); the failing pod's answers are resets, so eastus has 1/3 of the successes
    expect(envoyPrediction(drill, window.during[0]).eastus).toBeCloseTo(0.5, 6)
    expect(Math.abs(window.eastus - 1 / 3)).toBeLessThan(0.03)
    const measured = JSON.parse(step.outputs['partial-shares'])
    expect(Math.abs(measured.eastus - window.eastus)).toBeLessThan(0.02)
    // the action predicted the ejection (41.2%) and its split test says the data plane did not do it
    expect(JSON.parse(step.outputs['partial-predicted']).eastus).toBeCloseTo(35 / 85, 3)
    expect(step.outputs['partial-verdict']).toBe('fail')
    expect(step.outputs.verdict).toBe('fail')
    expect(step.summary).toMatch(/Partial failure: FAIL/)
    expect(step.summary).toMatch(/eastus: the evidence favours a share of 33\.3% over the expected 41\.2%/)
    expect(partial.errorsTotal).toBeGreaterThan(50)
    expect(drill.clusters.eastus.list('httpchaos', NS)).toEqual([])
  })
})
