// verify-failover drills through the BUNDLE (runner double), the real kubectl and the Kubernetes
// API double that owns the replica counts; failover times are compared with the ingress's own
// ground truth, read from Envoy's admin API by the sandbox (P5: within 2 probe intervals).
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { seededRandom } from '../../../src/core/failover/random.ts'
import type { Probe } from '../../../src/core/failover/timing.ts'
import { ROOT, runAction, startStep, type StepResult } from '../../../sandbox/runner.ts'
import { DEPLOYMENT, NS, readReport, requireBundle, startDrill, writeTopology, type Drill } from './world.ts'

const INTERVAL = 20
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

function kubectl(drill: Drill, args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const c = spawn(join(ROOT, '.cache/bin/kubectl'), ['--context', 'aks-eastus', '-n', NS, ...args], { env: { ...process.env, ...drill.env }, stdio: 'ignore' })
    c.on('close', resolve)
  })
}

/** Waits until the world's running replicas match the deployment (the hook runs after the API answers). */
async function settled(drill: Drill, region: string, n: number): Promise<void> {
  for (let i = 0; i < 200 && !(drill.replicas(region).spec === n && drill.replicas(region).running === n); i++) await sleep(20)
}

/** Exit code 0, or the end of the log to say why not. */
function expectOk(step: StepResult): void {
  expect({ code: step.code, log: step.code === 0 ? '' : step.stdout.slice(-3000) }).toEqual({ code: 0, log: '' })
}

function faultProbes(step: StepResult): Probe[] {
  return (readReport(step).data.probes as Probe[]).filter((p) => p.phase === 'fault')
}

beforeAll(() => requireBundle())

describe('verify-failover drills', () => {
  let drill: Drill
  afterEach(async () => drill?.close())

  test('scale-to-zero: leftover restored first, survivor serves 100% after the transition, failover time within 2 intervals of ground truth', async () => {
    drill = await startDrill({ regions: { eastus: { weight: 90, replicas: 2 }, westeurope: { weight: 10, replicas: 2 } }, endpointDelayMs: 150, readyDelayMs: 100 })
    // An earlier run was killed mid-drill: eastus at 0, annotation says 2.
    expect(await kubectl(drill, ['annotate', `deployment/${DEPLOYMENT}`, 'mr-actions.io/original-replicas=2'])).toBe(0)
    expect(await kubectl(drill, ['scale', `deployment/${DEPLOYMENT}`, '--replicas=0'])).toBe(0)
    await settled(drill, 'eastus', 0)
    const topology = writeTopology(drill)
    const step = await runAction(
      'verify-failover',
      { topology, weights: 'eastus=90, westeurope=10', 'fault-mode': 'scale-to-zero', 'fault-region': 'eastus', 'fault-duration': '1500ms', 'probe-interval': `${INTERVAL}ms`, consecutive: '10' },
      { env: drill.env }
    )
    expectOk(step)
    expect(step.stdout).toMatch(/carries the annotation of an earlier drill \(original replicas 2\): restoring it first/)
    expect(step.outputs.verdict).toBe('pass')
    expect(step.outputs['failover-verdict']).toBe('pass')
    const faultAt = Number(step.outputs['fault-at'])
    const failoverAt = Number(step.outputs['failover-at'])
    const truth = drill.world.truthAfter('eastus', 'capacity-lost', faultAt)!
    expect(truth).toBeDefined()
    expect(Math.abs(failoverAt - truth)).toBeLessThanOrEqual(2 * INTERVAL)
    expect(Number(step.outputs['failover-ms'])).toBe(failoverAt - faultAt)
    // After the transition every probe of the fault phase came from the survivor.
    const after = faultProbes(step).filter((p) => p.t >= failoverAt)
    expect(after.length).toBeGreaterThan(20)
    expect(after.every((p) => p.kind === 'ok' && p.region === 'westeurope')).toBe(true)
    // Between the fault and the EDS push, eastus requests hit stopped pods: errors were counted.
    expect(Object.keys(JSON.parse(step.outputs.errors)).length).toBeGreaterThan(0)
    // Restored: the deployment is back at 2, the annotation gone, eastus serves again.
    const restoredAt = Number(step.outputs['restored-at'])
    expect(restoredAt).toBeGreaterThanOrEqual(drill.world.truthAfter('eastus', 'capacity-regained', Number(step.outputs['restore-at']))!)
    expect(drill.replicas('eastus')).toEqual({ spec: 2, annotation: undefined, running: 2 })
    expect(step.summary).toMatch(/Failover: PASS \(scale-to-zero on eastus\)/)
    expect(step.summary).toMatch(/Restore: PASS/)
    expect(step.post?.code).toBe(0)
  })

  test('a drill while another run holds the lock (a promotion, another drill) refuses naming the holder; nothing scaled', async () => {
    drill = await startDrill({ regions: { eastus: { weight: 90, replicas: 2 }, westeurope: { weight: 10, replicas: 2 } } })
    const holder = 'https://github.com/example/platform/actions/runs/555/attempts/1'
    drill.clusters.eastus.apply({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'mr-actions-lock', namespace: NS }, spec: { holderIdentity: holder, leaseDurationSeconds: 300, renewTime: new Date().toISOString().replace('Z', '000Z') } } as never)
    const step = await runAction(
      'verify-failover',
      { topology: writeTopology(drill), weights: 'eastus=90, westeurope=10', 'fault-mode': 'scale-to-zero', 'fault-region': 'eastus', 'fault-duration': '1500ms', 'probe-interval': `${INTERVAL}ms` },
      { env: drill.env }
    )
    expect(step.code).toBe(1)
    expect(step.stdout).toContain(`::error::Lease ${NS}/mr-actions-lock on region eastus is held by ${holder} (it expires at `)
    expect(drill.replicas('eastus')).toEqual({ spec: 2, annotation: undefined, running: 2 })
    expect(step.post?.code).toBe(0)
  })

  test('failing pods through a Chaos Mesh HTTPChaos (fault-command kubectl apply / restore-command kubectl delete): Envoy ejects them, failover within 2 intervals of its ejections', async () => {
    drill = await startDrill({
      regions: { eastus: { weight: 90, replicas: 2 }, westeurope: { weight: 10, replicas: 2 } },
      outlierDetection: { consecutive5xxErrors: 1, interval: '100ms', baseEjectionTime: '3s', maxEjectionPercent: 100 }
    })
    const chaos = join(drill.dir, 'httpchaos.yaml')
    writeFileSync(
      chaos,
      ['apiVersion: chaos-mesh.org/v1alpha1', 'kind: HTTPChaos', 'metadata: { name: drill, namespace: apigee }', 'spec:', '  mode: all', '  selector: { namespaces: [apigee], labelSelectors: { app: helloworld } }', '  target: Response', '  port: 80', '  replace: { code: 503 }', '  duration: 10m', ''].join('\n')
    )
    const step = await runAction(
      'verify-failover',
      {
        weights: 'eastus=90, westeurope=10',
        'ingress-url': drill.world.url,
        classify: drill.classify,
        'fault-mode': 'failing-pods',
        'fault-region': 'eastus',
        'fault-command': `kubectl --context aks-eastus apply -f ${chaos}`,
        'restore-command': 'kubectl --context aks-eastus -n apigee delete httpchaos drill',
        'fault-duration': '2s',
        'probe-interval': `${INTERVAL}ms`,
        consecutive: '10'
      },
      { env: drill.env }
    )
    expectOk(step)
    const faultAt = Number(step.outputs['fault-at'])
    const failoverAt = Number(step.outputs['failover-at'])
    // Envoy's own events: both eastus hosts flagged failed_outlier_check, then no healthy eastus host
    expect(drill.world.truth.filter((e) => e.event === 'ejected' && e.region === 'eastus' && e.at >= faultAt).length).toBe(2)
    const truth = drill.world.truthAfter('eastus', 'capacity-lost', faultAt)!
    expect(Math.abs(failoverAt - truth)).toBeLessThanOrEqual(2 * INTERVAL)
    const after = faultProbes(step).filter((p) => p.t >= failoverAt)
    expect(after.length).toBeGreaterThan(20)
    expect(after.every((p) => p.kind === 'ok' && p.region === 'westeurope')).toBe(true)
    expect(JSON.parse(step.outputs.errors)['http-5xx']).toBeGreaterThanOrEqual(2)
    // restore-command deleted the object: no fault left on any replica, eastus answers again
    expect(drill.clusters.eastus.list('httpchaos', NS)).toEqual([])
    expect(Number(step.outputs['restore-ms'])).toBeGreaterThan(0)
    expect(drill.world.replicas.get('eastus')!.every((r) => r.fault === undefined)).toBe(true)
  })

  test('SIGINT at 6 moments (and SIGTERM) of a scale-to-zero drill: replicas restored every time', async () => {
    drill = await startDrill({ regions: { eastus: { weight: 90, replicas: 2 }, westeurope: { weight: 10, replicas: 2 } }, endpointDelayMs: 50 })
    const rand = seededRandom(20260101)
    const inputs = {
      weights: 'eastus=90, westeurope=10',
      'ingress-url': drill.world.url,
      classify: drill.classify,
      'fault-mode': 'scale-to-zero',
      'fault-region': 'eastus',
      'kube-context': 'aks-eastus',
      deployment: DEPLOYMENT,
      namespace: NS,
      'fault-duration': '1200ms',
      'probe-interval': '10ms',
      consecutive: '5'
    }
    // Moments: a log line the step prints, then a random extra delay (ms); the signal GitHub sends.
    const moments: Array<[string, RegExp, number, NodeJS.Signals]> = [
      ['during the split check', /split test:/, 20 + rand() * 150, 'SIGINT'],
      ['while annotating', /\$ kubectl .* annotate deployment\/helloworld mr-actions.io\/original-replicas=2/, rand() * 20, 'SIGINT'],
      ['while scaling to 0', /\$ kubectl .* scale deployment\/helloworld --replicas=0/, rand() * 20, 'SIGINT'],
      ['in the fault phase', /\$ kubectl .* scale deployment\/helloworld --replicas=0/, 300 + rand() * 600, 'SIGINT'],
      ['while restoring', /\$ kubectl .* scale deployment\/helloworld --replicas=2/, rand() * 30, 'SIGINT'],
      ['while measuring the restore', /restored deployment helloworld to 2/, rand() * 50, 'SIGINT'],
      ['SIGTERM in the fault phase', /\$ kubectl .* scale deployment\/helloworld --replicas=0/, 200 + rand() * 600, 'SIGTERM']
    ]
    let injected = 0
    let cancelled = 0
    for (const [what, marker, delay, signal] of moments) {
      const running = startStep('verify-failover', 'main', inputs, { env: drill.env })
      let out = ''
      let sent = false
      running.child.stdout!.on('data', (d: Buffer) => {
        out += d
        if (!sent && marker.test(out)) {
          sent = true
          setTimeout(() => running.child.kill(signal), delay)
        }
      })
      const main = await running.done
      expect({ what, sent }).toEqual({ what, sent: true })
      if (main.state.fault) injected++
      // main handles the signal itself: restores, says so, exits 1 (not killed by the signal).
      if (new RegExp(`cancelled by ${signal}`).test(main.stdout)) {
        cancelled++
        expect({ what, code: main.code, signal: main.signal }).toEqual({ what, code: 1, signal: null })
        // one report, saying what the cancel restored (not a second, failed one from the drill)
        expect({ what, reports: (main.summary.match(/^## /gm) ?? []).length }).toEqual({ what, reports: 1 })
        expect(main.summary).toMatch(new RegExp(`\\*\\*Cancelled by ${signal}\\.\\*\\* Restore: (scaled deployment helloworld back to 2|nothing to restore)`))
        expect(main.summary).not.toMatch(/Restore: FAIL/)
      }
      // The runner then runs post (post-if: always()) with main's state.
      const post = await startStep('verify-failover', 'post', inputs, { env: drill.env, state: main.state }).done
      expect({ what, post: post.code }).toEqual({ what, post: 0 })
      await settled(drill, 'eastus', 2)
      // The lock was given back on the way out (the next run of another workflow may go).
      const lease = drill.clusters.eastus.get('leases', NS, 'mr-actions-lock') as { spec?: { holderIdentity?: string } } | undefined
      expect({ what, holder: lease?.spec?.holderIdentity }).toEqual({ what, holder: undefined })
      expect({ what, ...drill.replicas('eastus') }).toEqual({ what, spec: 2, annotation: undefined, running: 2 })
    }
    // The signal landed while the drill ran (not after it ended) at least 5 times...
    expect(cancelled).toBeGreaterThanOrEqual(5)
    // Most moments hit after the fault was recorded, so the restore paths were exercised.
    expect(injected).toBeGreaterThanOrEqual(4)
  })
})
