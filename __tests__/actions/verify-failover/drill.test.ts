// verify-failover drills through the BUNDLE (runner double), the real kubectl and the Kubernetes
// API double that owns the replica counts; failover times are compared with the ingress's own
// ground truth, read from Envoy's admin API by the sandbox (P5: within 2 probe intervals).
import { spawn } from 'node:child_process'
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

/** This step's run URL (lease.ts runHolder): the HTTPChaos owner. */
const RUN_ENV = { GITHUB_SERVER_URL: 'https://github.com', GITHUB_RUN_ATTEMPT: '1' }
const RUN_URL = 'https://github.com/example/platform/actions/runs/1/attempts/1'
const OUTLIER = { consecutive5xxErrors: 1, interval: '100ms', baseEjectionTime: '3s', maxEjectionPercent: 100 }

function chaosInputs(drill: Drill): Record<string, string> {
  return { topology: writeTopology(drill), weights: 'eastus=90, westeurope=10', 'fault-mode': 'http-chaos', 'fault-region': 'eastus', 'fault-duration': '2s', 'probe-interval': `${INTERVAL}ms`, consecutive: '10' }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Chaos = { metadata: { name: string; uid: string; labels: Record<string, string>; annotations: Record<string, string> }; spec: Record<string, any> }

/** Envoy's view: every host of the region that was ejected has returned, and the region has capacity. */
function healthy(drill: Drill, region: string): boolean {
  const ev = drill.world.truth.filter((e) => e.region === region)
  const count = (kind: string): number => ev.filter((e) => e.event === kind).length
  return count('ejected') === count('returned') && ev.filter((e) => e.event.startsWith('capacity-')).pop()?.event !== 'capacity-lost'
}

/** Every HTTPChaos (by uid) the eastus cluster holds while a step runs, as first seen. */
function watchChaos(drill: Drill): { objects: Chaos[]; stop: () => void } {
  const objects: Chaos[] = []
  const t = setInterval(() => {
    for (const o of drill.clusters.eastus.list('httpchaos', NS) as Chaos[]) if (!objects.some((x) => x.metadata.uid === o.metadata.uid)) objects.push(o)
  }, 5)
  return { objects, stop: () => clearInterval(t) }
}

/** Another run's drill object on eastus, as this action writes it. */
function foreignChaos(owner: string, expires: string, duration: string): never {
  return {
    apiVersion: 'chaos-mesh.org/v1alpha1',
    kind: 'HTTPChaos',
    metadata: { name: 'mr-drill-helloworld', namespace: NS, labels: { 'app.kubernetes.io/managed-by': 'mr-actions' }, annotations: { 'mr-actions.io/owner': owner, 'mr-actions.io/expires': expires } },
    spec: { mode: 'all', selector: { namespaces: [NS], labelSelectors: { app: DEPLOYMENT } }, target: 'Request', port: 80, abort: true, duration }
  } as never
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
    // Envoy regained capacity between two admin reads (since, at]: eastus cannot have answered
    // the probes before the earlier of them
    const restoredAt = Number(step.outputs['restored-at'])
    const regained = drill.world.truth.find((e) => e.region === 'eastus' && e.event === 'capacity-regained' && e.at >= Number(step.outputs['restore-at']))!
    expect(regained.since).toBeDefined()
    expect(restoredAt).toBeGreaterThanOrEqual(regained.since!)
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

  test('the Lease is renewed while a drill outlasts lease-duration: a second drill then is refused naming the first; once it ends the second runs', async () => {
    drill = await startDrill({ regions: { eastus: { weight: 90, replicas: 2 }, westeurope: { weight: 10, replicas: 2 } } })
    const lease = (): { holderIdentity?: string; acquireTime?: string; renewTime?: string; leaseDurationSeconds?: number } | undefined =>
      (drill.clusters.eastus.get('leases', NS, 'mr-actions-lock') as { spec?: Record<string, never> } | undefined)?.spec
    const inputs = (duration: string): Record<string, string> => ({ topology: writeTopology(drill), weights: 'eastus=90, westeurope=10', 'fault-mode': 'scale-to-zero', 'fault-region': 'eastus', 'fault-duration': duration, 'probe-interval': `${INTERVAL}ms`, 'lease-duration': '15s' })
    const first = runAction('verify-failover', inputs('40s'), { env: { ...drill.env, ...RUN_ENV } })
    const firstUrl = RUN_URL
    const t0 = Date.now()
    while (lease()?.holderIdentity !== firstUrl && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 100))
    const taken = lease()!
    expect(taken).toMatchObject({ holderIdentity: firstUrl, leaseDurationSeconds: 15 })
    // past the Lease's first expiry (acquire + 15 s) the first drill still holds it, renewed
    await new Promise((r) => setTimeout(r, Date.parse(taken.acquireTime!) + 22_000 - Date.now()))
    const renewed = lease()!
    expect(renewed.holderIdentity).toBe(firstUrl)
    expect(Date.parse(renewed.renewTime!) - Date.parse(taken.acquireTime!)).toBeGreaterThan(15_000)
    const second = { ...drill.env, ...RUN_ENV, GITHUB_RUN_ID: '2' }
    const refused = await runAction('verify-failover', inputs('2s'), { env: second })
    expect(refused.code).toBe(1)
    expect(refused.stdout).toContain(`::error::Lease ${NS}/mr-actions-lock on region eastus is held by ${firstUrl} (it expires at `)
    // the first drill's fault untouched by the refused one: eastus still at 0, its annotation kept
    expect(drill.replicas('eastus')).toMatchObject({ spec: 0, annotation: '2' })
    expectOk(await first)
    expect(lease()?.holderIdentity).toBeUndefined()
    expect(drill.replicas('eastus')).toEqual({ spec: 2, annotation: undefined, running: 2 })
    // the lock is free: the second drill runs
    expectOk(await runAction('verify-failover', inputs('2s'), { env: second }))
  }, 180_000)

  test('http-chaos: the HTTPChaos carries this run as owner and its expiry; Envoy ejects the eastus pods, failover within 2 intervals of its ejections; nothing left after the step', async () => {
    drill = await startDrill({ regions: { eastus: { weight: 90, replicas: 2 }, westeurope: { weight: 10, replicas: 2 } }, outlierDetection: OUTLIER })
    const seen = watchChaos(drill)
    const step = await runAction('verify-failover', chaosInputs(drill), { env: { ...drill.env, ...RUN_ENV } })
    seen.stop()
    expectOk(step)
    const faultAt = Number(step.outputs['fault-at'])
    const failoverAt = Number(step.outputs['failover-at'])
    // the object while it was live: this attempt's URL, expiring after fault-duration + restore-timeout (2m)
    expect(seen.objects).toHaveLength(1)
    const obj = seen.objects[0]
    expect(obj.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'mr-actions' })
    expect(obj.metadata.annotations['mr-actions.io/owner']).toBe(RUN_URL)
    expect(Math.abs(Date.parse(obj.metadata.annotations['mr-actions.io/expires']) - (faultAt + 2000 + 120_000))).toBeLessThan(1000)
    // the deployment's matchLabels, its container port, the request aborted; Chaos Mesh ends it after 32 s by itself
    expect(obj.spec).toEqual({ mode: 'all', selector: { namespaces: [NS], labelSelectors: { app: DEPLOYMENT } }, target: 'Request', port: 80, abort: true, duration: '32s' })
    // Envoy's own events: both eastus hosts flagged failed_outlier_check, then no healthy eastus host
    expect(drill.world.truth.filter((e) => e.event === 'ejected' && e.region === 'eastus' && e.at >= faultAt).length).toBe(2)
    const truth = drill.world.truthAfter('eastus', 'capacity-lost', faultAt)!
    expect(Math.abs(failoverAt - truth)).toBeLessThanOrEqual(2 * INTERVAL)
    const after = faultProbes(step).filter((p) => p.t >= failoverAt)
    expect(after.length).toBeGreaterThan(20)
    expect(after.every((p) => p.kind === 'ok' && p.region === 'westeurope')).toBe(true)
    expect(JSON.parse(step.outputs.errors)['http-5xx']).toBeGreaterThanOrEqual(2)
    // restored by deleting the object: none left, no fault on any replica, eastus answers again
    expect(step.summary).toMatch(/Failover: PASS \(http-chaos on eastus\)/)
    expect(step.summary).toMatch(/deleted httpchaos\/mr-drill-helloworld at /)
    expect(drill.clusters.eastus.list('httpchaos', NS)).toEqual([])
    expect(drill.world.replicas.get('eastus')!.every((r) => r.fault === undefined)).toBe(true)
    expect(Number(step.outputs['restore-ms'])).toBeGreaterThan(0)
    expect(step.post?.code).toBe(0)
  })

  test("http-chaos while another run's drill is live: refuses naming its owner and expiry; nothing probed, created or deleted", async () => {
    drill = await startDrill({ regions: { eastus: { weight: 90, replicas: 2 }, westeurope: { weight: 10, replicas: 2 } }, outlierDetection: OUTLIER })
    const other = 'https://github.com/example/platform/actions/runs/555/attempts/1'
    const expires = new Date(Date.now() + 600_000).toISOString()
    const before = drill.clusters.eastus.apply(foreignChaos(other, expires, '10m')) as { metadata: { uid: string; resourceVersion: string } }
    const requests = await drill.world.requests()
    const step = await runAction('verify-failover', chaosInputs(drill), { env: { ...drill.env, ...RUN_ENV } })
    expect(step.code).toBe(1)
    expect(step.stdout).toContain(`::error::a drill by ${other} is live on deployment ${DEPLOYMENT} until ${expires} (httpchaos/mr-drill-helloworld in namespace ${NS}, region eastus); nothing was changed`)
    expect(step.stdout).toMatch(/wait for it or delete httpchaos\/mr-drill-helloworld \(kubectl delete httpchaos mr-drill-helloworld -n apigee\) if that run is gone/)
    // the foreign object untouched, no probe sent, nothing recorded for the post step
    const still = drill.clusters.eastus.get('httpchaos', NS, 'mr-drill-helloworld') as { metadata: { uid: string; resourceVersion: string; annotations: Record<string, string> } }
    expect(still.metadata.uid).toBe(before.metadata.uid)
    expect(still.metadata.annotations['mr-actions.io/owner']).toBe(other)
    expect(drill.clusters.eastus.list('httpchaos', NS)).toHaveLength(1)
    expect(await drill.world.requests()).toBe(requests)
    expect(step.state.fault).toBeUndefined()
    expect(step.post?.code).toBe(0)
    expect(drill.clusters.eastus.list('httpchaos', NS)).toHaveLength(1)
  })

  test('http-chaos over an expired leftover: deleted first (said so), then the drill runs (chaos-action 503)', async () => {
    drill = await startDrill({ regions: { eastus: { weight: 90, replicas: 2 }, westeurope: { weight: 10, replicas: 2 } }, outlierDetection: OUTLIER })
    const other = 'https://github.com/example/platform/actions/runs/554/attempts/1'
    const expired = new Date(Date.now() - 60_000).toISOString()
    // a run that died: its object lingers after Chaos Mesh ended the injection (duration over)
    const applied = Date.now()
    drill.clusters.eastus.apply(foreignChaos(other, expired, '1s'))
    for (let i = 0; i < 200 && drill.world.truth.filter((e) => e.event === 'chaos-recovered' && e.at >= applied).length === 0; i++) await sleep(20)
    const seen = watchChaos(drill)
    const step = await runAction('verify-failover', { ...chaosInputs(drill), 'chaos-action': '503' }, { env: { ...drill.env, ...RUN_ENV } })
    seen.stop()
    expectOk(step)
    expect(step.stdout).toContain(`httpchaos/mr-drill-helloworld in namespace ${NS} is a leftover of ${other} (it expired at ${expired}): deleting it first`)
    expect(step.summary).toMatch(/Restored first: an earlier drill/)
    expect(seen.objects.map((o) => o.metadata.annotations['mr-actions.io/owner'])).toEqual([other, RUN_URL])
    expect(seen.objects[1].spec).toMatchObject({ target: 'Response', replace: { code: 503 } })
    expect(step.outputs['failover-verdict']).toBe('pass')
    expect(JSON.parse(step.outputs.errors)['http-5xx']).toBeGreaterThanOrEqual(2)
    expect(drill.clusters.eastus.list('httpchaos', NS)).toEqual([])
    expect(drill.world.replicas.get('eastus')!.every((r) => r.fault === undefined)).toBe(true)
  })

  test('http-chaos cancelled in the fault phase: SIGINT, main deletes the object; SIGKILL (no cancel handler), the post step deletes it', async () => {
    drill = await startDrill({ regions: { eastus: { weight: 90, replicas: 2 }, westeurope: { weight: 10, replicas: 2 } }, outlierDetection: OUTLIER })
    const inputs = { ...chaosInputs(drill), 'fault-duration': '3s' }
    for (const signal of ['SIGINT', 'SIGKILL'] as const) {
      const running = startStep('verify-failover', 'main', inputs, { env: { ...drill.env, ...RUN_ENV } })
      let out = ''
      let sent = false
      running.child.stdout!.on('data', (d: Buffer) => {
        out += d
        if (!sent && /\$ kubectl .* create -f -/.test(out)) {
          sent = true
          setTimeout(() => running.child.kill(signal), 400)
        }
      })
      const main = await running.done
      expect({ signal, sent, log: sent ? '' : out.slice(-3000) }).toEqual({ signal, sent: true, log: '' })
      // recorded before it was created: what the post step needs
      expect(JSON.parse(main.state.fault)).toMatchObject({ mode: 'http-chaos', chaos: { name: 'mr-drill-helloworld', owner: RUN_URL } })
      if (signal === 'SIGINT') {
        expect(main.code).toBe(1)
        expect(main.summary).toMatch(/\*\*Cancelled by SIGINT\.\*\* Restore: deleted httpchaos\/mr-drill-helloworld at /)
        expect(drill.clusters.eastus.list('httpchaos', NS)).toEqual([])
      } else {
        expect(main.signal).toBe('SIGKILL')
        expect(drill.clusters.eastus.list('httpchaos', NS)).toHaveLength(1)
      }
      const post = await startStep('verify-failover', 'post', inputs, { env: { ...drill.env, ...RUN_ENV }, state: main.state }).done
      expect({ signal, post: post.code }).toEqual({ signal, post: 0 })
      if (signal === 'SIGKILL') expect(post.stdout).toContain('deleted httpchaos/mr-drill-helloworld in namespace apigee')
      expect({ signal, left: drill.clusters.eastus.list('httpchaos', NS) }).toEqual({ signal, left: [] })
      for (let i = 0; i < 100 && drill.world.replicas.get('eastus')!.some((r) => r.fault); i++) await sleep(20)
      expect({ signal, faulted: drill.world.replicas.get('eastus')!.filter((r) => r.fault).length }).toEqual({ signal, faulted: 0 })
      // the next round's split check needs eastus back: Envoy returns ejected hosts after baseEjectionTime
      for (let i = 0; i < 500 && !healthy(drill, 'eastus'); i++) await sleep(20)
    }
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
