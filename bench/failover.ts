// P5 and P8: verify-failover's measurements against Envoy's own, through the BUNDLE on the traffic
// sandbox (real Envoy gateways, Istio objects in the Kubernetes API doubles, HTTPChaos).
//   P5: the failover time the action measures (failover-ms: the first of K consecutive survivor
//       responses after the failed region's last one) / the time of Envoy's own event, read from its
//       admin API by the sandbox: the moment the region has no healthy host left (after the EDS push
//       for scale-to-zero, after the outlier ejections for http-chaos). Also the difference in probe
//       intervals (goal: within 1).
//   P8: with chaos-pods (a partial failure under distribute), the share the action measured for the
//       failing region / the share Envoy's rule predicts from Envoy's own flags (weight x min(1, 1.4 x
//       healthy hosts / hosts), normalised, on /clusters' failed_outlier_check and the
//       DestinationRule in the kube double), plus the action's own prediction and verdict.
// Usage: node bench/failover.ts [rounds per P5 mode, default 3]
import { runAction, type StepResult } from '../sandbox/runner.ts'
import { NS, readReport, requireBundle, startDrill, writeTopology, type Drill } from '../__tests__/actions/verify-failover/world.ts'
import type { RegionSpec } from '../sandbox/traffic/index.ts'

const ROUNDS = Number(process.argv[2] ?? 3)
const INTERVAL = 20
const RUN_ENV = { GITHUB_SERVER_URL: 'https://github.com', GITHUB_RUN_ATTEMPT: '1' }
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function drillWith<T>(regions: Record<string, RegionSpec>, o: { outlier?: Json; endpointDelayMs?: number }, fn: (d: Drill) => Promise<T>): Promise<T> {
  const d = await startDrill({ regions, outlierDetection: o.outlier, endpointDelayMs: o.endpointDelayMs })
  try {
    return await fn(d)
  } finally {
    await d.close()
  }
}

function ok(step: StepResult): void {
  if (step.code !== 0) throw new Error(`verify-failover failed:\n${step.stdout.slice(-3000)}`)
}

async function p5(mode: 'scale-to-zero' | 'http-chaos'): Promise<{ action: number; envoy: number; since: number }> {
  const outlier = mode === 'http-chaos' ? { consecutive5xxErrors: 1, interval: '100ms', baseEjectionTime: '3s', maxEjectionPercent: 100 } : undefined
  return drillWith({ eastus: { weight: 90, replicas: 2 }, westeurope: { weight: 10, replicas: 2 } }, { outlier, endpointDelayMs: 150 }, async (d) => {
    const step = await runAction(
      'verify-failover',
      { topology: writeTopology(d), weights: 'eastus=90, westeurope=10', 'fault-mode': mode, 'fault-region': 'eastus', 'fault-duration': '2s', 'probe-interval': `${INTERVAL}ms`, consecutive: '10' },
      { env: { ...d.env, ...RUN_ENV } }
    )
    ok(step)
    const faultAt = Number(step.outputs['fault-at'])
    const lost = d.world.truth.find((e) => e.region === 'eastus' && e.event === 'capacity-lost' && e.at >= faultAt)
    if (!lost) throw new Error('Envoy never lost eastus')
    return { action: Number(step.outputs['failover-ms']), envoy: lost.at - faultAt, since: (lost.since ?? lost.at) - faultAt }
  })
}

/** Envoy's rule on Envoy's own flags (the primary gateway's /clusters) and the DestinationRule in the kube double. */
async function envoyPrediction(d: Drill): Promise<Record<string, number>> {
  const body = (await (await fetch(`${d.world.gateways.get(d.world.primary)!.adminUrl}/clusters?format=json`)).json()) as Json
  const hosts: Record<string, number> = {}
  const healthy: Record<string, number> = {}
  for (const c of body.cluster_statuses ?? []) {
    for (const h of c.host_statuses ?? []) {
      const r = String(h.locality?.region)
      hosts[r] = (hosts[r] ?? 0) + 1
      healthy[r] = (healthy[r] ?? 0) + (h.health_status?.failed_outlier_check === true ? 0 : 1)
    }
  }
  const dr = d.clusters.eastus.get('destinationrules', NS, 'helloworld') as Json
  const to = dr.spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to as Record<string, number>
  const eff = Object.entries(to).map(([k, w]) => [k.split('/')[0], w * Math.min(1, (1.4 * healthy[k.split('/')[0]]) / hosts[k.split('/')[0]])] as const)
  const total = eff.reduce((a, [, w]) => a + w, 0)
  return Object.fromEntries(eff.map(([r, w]) => [r, w / total]))
}

async function p8(weights: [number, number], replicas: [number, number], failing: number): Promise<void> {
  const outlier = { consecutive5xxErrors: 1, interval: '100ms', baseEjectionTime: '60s', maxEjectionPercent: 100 }
  await drillWith({ eastus: { weight: weights[0], replicas: replicas[0] }, westeurope: { weight: weights[1], replicas: replicas[1] } }, { outlier }, async (d) => {
    let truth: Record<string, number> | undefined
    // read Envoy's flags halfway through the fault phase (fault-duration 20 s, the transition 1 s)
    const running = runAction(
      'verify-failover',
      { topology: writeTopology(d), weights: `eastus=${weights[0]}, westeurope=${weights[1]}`, 'fault-mode': 'http-chaos', 'fault-region': 'eastus', 'chaos-pods': String(failing), 'fault-duration': '20s', 'abort-window': '1s', 'probe-interval': `${INTERVAL}ms` },
      { env: { ...d.env, ...RUN_ENV } }
    )
    const watch = (async () => {
      for (let i = 0; i < 1200 && !d.world.truth.some((e) => e.event === 'chaos-injected'); i++) await new Promise((r) => setTimeout(r, 50))
      await new Promise((r) => setTimeout(r, 10_000))
      truth = await envoyPrediction(d)
    })()
    const step = await running
    await watch
    const partial = readReport(step).data.partial as Json
    const measured = JSON.parse(step.outputs['partial-shares'] ?? '{}').eastus as number
    const predicted = JSON.parse(step.outputs['partial-predicted'] ?? '{}').eastus as number
    const envoy = truth!.eastus
    console.log(
      `P8 ${weights.join('/')} with ${failing} of ${replicas[0]} eastus pods failing: measured ${(measured * 100).toFixed(1)}% (N ${partial.n}) / Envoy-predicted ${(envoy * 100).toFixed(1)}% = ${(measured / envoy).toFixed(3)}; action's prediction ${(predicted * 100).toFixed(1)}%, configured ${(partial.configured.eastus * 100).toFixed(1)}%, no-spill ${(partial.noSpill.eastus * 100).toFixed(1)}%; verdict ${step.outputs['partial-verdict']} (${partial.verdict.method})`
    )
  })
}

requireBundle()
const started = Date.now()
console.log(`P5: verify-failover failover time / Envoy's own event (the region's last healthy host gone, read from its admin API every 10 ms), probe interval ${INTERVAL} ms, ${ROUNDS} rounds per mode`)
for (const mode of ['scale-to-zero', 'http-chaos'] as const) {
  const rows: Array<{ action: number; envoy: number; since: number }> = []
  for (let i = 0; i < ROUNDS; i++) {
    const r = await p5(mode)
    rows.push(r)
    console.log(`  ${mode} round ${i + 1}: action ${r.action} ms, Envoy ${r.envoy} ms (changed after ${r.since} ms): ratio ${(r.action / r.envoy).toFixed(3)}, difference ${((r.action - r.envoy) / INTERVAL).toFixed(2)} probe intervals`)
  }
  const diffs = rows.map((r) => (r.action - r.envoy) / INTERVAL)
  const worst = Math.max(...diffs.map(Math.abs))
  console.log(
    `P5 ${mode}: ratio median ${median(rows.map((r) => r.action / r.envoy)).toFixed(3)} (${rows.map((r) => (r.action / r.envoy).toFixed(3)).join(', ')}); difference median ${median(diffs).toFixed(2)}, worst ${worst.toFixed(2)} probe intervals (goal within 1) ${worst <= 1 ? 'MET' : 'NOT MET'}`
  )
}
await p8([50, 50], [2, 2], 1)
await p8([90, 10], [4, 2], 3)
console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s)`)
