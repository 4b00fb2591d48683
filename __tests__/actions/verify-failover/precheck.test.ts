// verify-failover's prechecks read the mesh's real objects: each of Istio's rules is triggered by a
// misconfigured DestinationRule / VirtualService applied with the real kubectl to the Kubernetes
// API double the Envoy gateway is configured from; the drill then refuses before any probe or change.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, startStep } from '../../../sandbox/runner.ts'
import { DEPLOYMENT, NS, requireBundle, startDrill, writeTopology, type Drill } from './world.ts'

beforeAll(() => requireBundle())

/** The real kubectl (async: the API double answers from this very process). */
async function kubectlApply(drill: Drill, yaml: string, context = 'aks-eastus'): Promise<void> {
  const file = join(drill.dir, 'mesh.yaml')
  writeFileSync(file, yaml)
  const c = spawn(join(ROOT, '.cache/bin/kubectl'), ['--context', context, 'apply', '-f', file], { env: { ...process.env, ...drill.env } })
  let err = ''
  c.stderr.on('data', (d: Buffer) => (err += d))
  const code = await new Promise<number | null>((r) => c.on('close', r))
  if (code !== 0) throw new Error(`kubectl apply failed: ${err}`)
}

const DR = (trafficPolicy: string, extra = ''): string =>
  `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: helloworld, namespace: apigee }\nspec:\n  host: helloworld\n  trafficPolicy:\n${trafficPolicy}${extra}`
const OD = '    outlierDetection: { consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 100 }\n'
const distribute = (e: number, w: number): string => `    loadBalancer:\n      localityLbSetting:\n        enabled: true\n        distribute: [{ from: '*', to: { 'eastus/*': ${e}, 'westeurope/*': ${w} } }]\n`
const VS = (route: string): string => `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: helloworld, namespace: apigee }\nspec:\n  hosts: ['*']\n  gateways: [helloworld-gateway]\n  http:\n  - route:\n${route}`
const ROUTE_SERVICE = '    - destination: { host: helloworld }\n'

describe('verify-failover prechecks on the mesh objects (kubectl apply, then the drill)', () => {
  let drill: Drill
  beforeAll(async () => {
    drill = await startDrill({ regions: { eastus: { weight: 90, replicas: 2 }, westeurope: { weight: 10, replicas: 2 } } })
  })
  afterAll(async () => drill?.close())

  const inputs = (mode: string): Record<string, string> => ({
    // the topology names each region's deployment: the maxEjectionPercent check counts their pods
    topology: writeTopology(drill),
    weights: 'eastus=90, westeurope=10',
    'ingress-url': drill.world.url,
    classify: drill.classify,
    'mesh-namespace': NS,
    'mesh-context': 'aks-eastus',
    'fault-mode': mode,
    'fault-region': 'eastus',
    'kube-context': 'aks-eastus',
    deployment: DEPLOYMENT,
    namespace: NS,
    'fault-duration': '2s',
    'probe-interval': '20ms'
  })
  const cases: Array<[string, string, string, RegExp]> = [
    ['distribute and failover both set', 'scale-to-zero', DR(`    loadBalancer:\n      localityLbSetting:\n        distribute: [{ from: '*', to: { 'eastus/*': 90, 'westeurope/*': 10 } }]\n        failover: [{ from: eastus, to: westeurope }]\n${OD}`), /DestinationRule apigee\/helloworld: spec.trafficPolicy.loadBalancer.localityLbSetting sets both distribute and failover/],
    ['failover without outlierDetection', 'scale-to-zero', DR(`    loadBalancer:\n      localityLbSetting:\n        failover: [{ from: eastus, to: westeurope }]\n`), /DestinationRule apigee\/helloworld: spec.trafficPolicy.loadBalancer.localityLbSetting.failover without spec.trafficPolicy.outlierDetection/],
    ['maxEjectionPercent too low for http-chaos', 'http-chaos', DR(distribute(90, 10) + '    outlierDetection: { consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 25 }\n'), /spec.trafficPolicy.outlierDetection.maxEjectionPercent 25 lets Envoy eject 1 of 4 pods, but eastus has 2/],
    ['weights that disagree with the expected split', 'scale-to-zero', DR(distribute(80, 20) + OD), /distribute\[0\].to gives eastus 80.0%(25)?, westeurope 20.0%(25)?; the expected split is eastus 90.0%(25)?, westeurope 10.0%(25)?/],
    [
      'a route split across per-region subsets',
      'scale-to-zero',
      DR(OD, '  subsets:\n  - { name: east, labels: { region: eastus } }\n  - { name: west, labels: { region: westeurope } }\n') + '---\n' + VS('    - { destination: { host: helloworld, subset: east }, weight: 90 }\n    - { destination: { host: helloworld, subset: west }, weight: 10 }\n'),
      /VirtualService apigee\/helloworld: spec.http\[0\].route splits traffic across subsets east, west: each subset is its own Envoy cluster/
    ]
  ]

  test.each(cases)('%s', async (_name, mode, yaml, message) => {
    await kubectlApply(drill, yaml)
    const before = await drill.world.requests()
    const main = await startStep('verify-failover', 'main', inputs(mode), { env: drill.env }).done
    expect(main.code).toBe(1)
    expect(main.stdout).toMatch(message)
    expect(main.stdout).toMatch(/fix: /)
    // exactly one finding: the mistake made
    const error = main.stdout.split('\n').find((l) => l.startsWith('::error::'))!
    expect(error.split('%0A  - ').length - 1).toBe(1)
    expect(await drill.world.requests()).toBe(before)
    expect(drill.replicas('eastus')).toEqual({ spec: 2, annotation: undefined, running: 2 })
    expect(main.state.fault).toBeUndefined()
    // put the good objects back
    await kubectlApply(drill, DR(distribute(90, 10) + OD) + '---\n' + VS(ROUTE_SERVICE))
  })

  test('topology mesh: { namespace, region } says where the objects are read: the cluster of that region, no mesh-* inputs', async () => {
    // a mistake only in westeurope's cluster: eastus's objects (the old default) still fit
    await kubectlApply(drill, DR(distribute(80, 20) + OD), 'aks-westeurope')
    try {
      const { 'mesh-namespace': _n, 'mesh-context': _c, ...rest } = inputs('scale-to-zero')
      const before = await drill.world.requests()
      for (const c of Object.values(drill.clusters)) c.accessLog.length = 0
      const main = await startStep('verify-failover', 'main', { ...rest, topology: writeTopology(drill, join(drill.dir, 'mesh-topology.yml'), { namespace: NS, region: 'westeurope' }) }, { env: drill.env }).done
      expect(main.code).toBe(1)
      expect(main.stdout).toMatch(/DestinationRule apigee\/helloworld: spec.trafficPolicy.loadBalancer.localityLbSetting.distribute\[0\].to gives eastus 80.0%(25)?, westeurope 20.0%(25)?/)
      expect(await drill.world.requests()).toBe(before)
      expect(drill.replicas('eastus')).toEqual({ spec: 2, annotation: undefined, running: 2 })
      const read = (r: string) => drill.clusters[r].accessLog.some((e) => e.resource === 'destinationrules' && e.verb === 'list')
      expect({ eastus: read('eastus'), westeurope: read('westeurope') }).toEqual({ eastus: false, westeurope: true })
    } finally {
      await kubectlApply(drill, DR(distribute(90, 10) + OD), 'aks-westeurope')
    }
  })

  test('the fitting objects pass the prechecks and the drill runs', async () => {
    const main = await startStep('verify-failover', 'main', inputs('scale-to-zero'), { env: drill.env }).done
    expect(main.stdout).not.toMatch(/mesh precheck failed/)
    expect({ code: main.code, log: main.code === 0 ? '' : main.stdout.slice(-2000) }).toEqual({ code: 0, log: '' })
    expect(main.outputs.verdict).toBe('pass')
  })
})
