// The steady-state gate and the abort guard, through the BUNDLE on the Envoy sandbox: a drill whose
// survivors are unhealthy or at 0 replicas refuses before any change (the fault region's deployment
// is never written to: the API double's access log shows it); survivors that fail mid-drill make
// the drill restore at once and fail loudly.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, runAction, startStep } from '../../../sandbox/runner.ts'
import { DEPLOYMENT, NS, requireBundle, startDrill, writeTopology, type Drill } from './world.ts'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function kubectl(drill: Drill, context: string, args: string[]): Promise<void> {
  const c = spawn(join(ROOT, '.cache/bin/kubectl'), ['--context', context, ...args], { env: { ...process.env, ...drill.env } })
  let err = ''
  c.stderr.on('data', (d: Buffer) => (err += d))
  const code = await new Promise<number | null>((r) => c.on('close', r))
  if (code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${err}`)
}

function chaosFile(drill: Drill, name: string, spec: string): string {
  const file = join(drill.dir, `${name}.yaml`)
  writeFileSync(file, `apiVersion: chaos-mesh.org/v1alpha1\nkind: HTTPChaos\nmetadata: { name: ${name}, namespace: apigee }\nspec:\n  mode: all\n  selector: { namespaces: [apigee], labelSelectors: { app: helloworld } }\n  target: Response\n  port: 80\n${spec}  duration: 10m\n`)
  return file
}

/** Writes (not reads) to the eastus deployment the API double saw. */
function deploymentWrites(drill: Drill): string[] {
  return drill.clusters.eastus.accessLog.filter((e) => e.resource === 'deployments' && !['get', 'list', 'watch'].includes(e.verb)).map((e) => `${e.verb} ${e.path}`)
}

beforeAll(() => requireBundle())

describe('verify-failover steady-state gate', () => {
  let drill: Drill
  beforeEach(async () => {
    drill = await startDrill({ regions: { eastus: { weight: 90, replicas: 2 }, westeurope: { weight: 10, replicas: 2 } }, endpointDelayMs: 50 })
  })
  afterEach(async () => drill?.close())

  const inputs = (extra: Record<string, string> = {}): Record<string, string> => ({
    topology: writeTopology(drill),
    weights: 'eastus=90, westeurope=10',
    classify: drill.classify,
    'fault-mode': 'scale-to-zero',
    'fault-region': 'eastus',
    'fault-duration': '2s',
    'probe-interval': '20ms',
    'max-requests': '300',
    ...extra
  })

  async function refused(extra: Record<string, string>, reason: RegExp): Promise<void> {
    const main = await startStep('verify-failover', 'main', inputs(extra), { env: drill.env }).done
    expect(main.code).toBe(1)
    expect(main.stdout).toMatch(/no fault injected on eastus, nothing changed/)
    expect(main.stdout).toMatch(reason)
    expect(main.outputs.gate).toBe('refused')
    expect(main.state.fault).toBeUndefined()
    expect(deploymentWrites(drill)).toEqual([])
    expect(drill.replicas('eastus')).toEqual({ spec: 2, annotation: undefined, running: 2 })
  }

  test('survivors at 0 replicas: refused, the deployment never touched', async () => {
    await kubectl(drill, 'aks-westeurope', ['-n', NS, 'scale', `deployment/${DEPLOYMENT}`, '--replicas=0'])
    for (let i = 0; i < 100 && drill.world.replicas.get('westeurope')!.length > 0; i++) await sleep(20)
    await sleep(200)
    await refused({}, /westeurope must absorb the traffic but has 0 ready replica/)
  })

  test('unhealthy survivors (HTTPChaos aborts westeurope): the split check fails, refused, nothing changed', async () => {
    await kubectl(drill, 'aks-westeurope', ['apply', '-f', chaosFile(drill, 'sick', '  abort: true\n')])
    await sleep(200)
    await refused({}, /the split check did not pass .*: the mesh is not in its steady state/)
  })

  test('fewer ready survivors than min-healthy-replicas: refused although the split passed', async () => {
    await refused({ 'min-healthy-replicas': '3' }, /westeurope must absorb the traffic but has 2 ready replica\(s\), fewer than min-healthy-replicas 3/)
  })

  test('survivors that fail mid-drill: restored at once (long before fault-duration), loud failure', async () => {
    const chaos = chaosFile(drill, 'also-west', '  replace: { code: 503 }\n')
    const ctx = (c: string): string => `kubectl --context aks-${c} -n ${NS}`
    const step = await runAction(
      'verify-failover',
      inputs({
        'fault-mode': 'command',
        'fault-command': `${ctx('eastus')} scale deployment/${DEPLOYMENT} --replicas=0 && kubectl --context aks-westeurope apply -f ${chaos}`,
        'restore-command': `${ctx('westeurope')} delete httpchaos also-west; ${ctx('eastus')} scale deployment/${DEPLOYMENT} --replicas=2`,
        'fault-duration': '20s',
        'abort-window': '300ms'
      }),
      { env: drill.env }
    )
    expect(step.code).toBe(1)
    expect(step.stdout).toMatch(/ABORTED, the fault on eastus was undone at once: \d+ of the last \d+ probes failed/)
    expect(step.summary).toMatch(/\*\*ABORTED\*\*/)
    expect(Number(step.outputs['restore-at']) - Number(step.outputs['fault-at'])).toBeLessThan(5000)
    for (let i = 0; i < 100 && drill.world.replicas.get('eastus')!.length < 2; i++) await sleep(20)
    expect(drill.replicas('eastus')).toEqual({ spec: 2, annotation: undefined, running: 2 })
    expect(drill.clusters.westeurope.list('httpchaos', NS)).toEqual([])
  })
})
