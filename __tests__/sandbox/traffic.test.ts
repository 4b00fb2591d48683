// The traffic sandbox: real Envoy gateways configured from Istio's objects in the Kubernetes API
// double, endpoints following the replicas, HTTPChaos faults, ground truth from Envoy's admin API.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startKubeCluster, type KubeCluster } from '../../sandbox/kube/index.ts'
import { TrafficWorld } from '../../sandbox/traffic/index.ts'

async function get(url: string): Promise<{ status: number; region?: string; body: string }> {
  const r = await fetch(url)
  return { status: r.status, region: r.headers.get('x-region') ?? undefined, body: await r.text() }
}
async function count(url: string, n: number): Promise<Record<string, number>> {
  const c: Record<string, number> = {}
  for (let i = 0; i < n; i++) {
    const r = await get(url)
    const k = r.status === 200 ? r.region! : String(r.status)
    c[k] = (c[k] ?? 0) + 1
  }
  return c
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('sandbox traffic world (Envoy)', () => {
  let world: TrafficWorld
  const clusters: KubeCluster[] = []
  afterEach(async () => {
    await world?.close()
    for (const c of clusters.splice(0)) await c.close()
  })

  async function attach(): Promise<Record<string, KubeCluster>> {
    const out: Record<string, KubeCluster> = {}
    const dir = mkdtempSync(join(tmpdir(), 'traffic-'))
    for (const r of world.regions()) {
      out[r] = await startKubeCluster({ name: `aks-${r}`, tlsDir: join(dir, 'tls'), namespaces: ['apigee'] })
      clusters.push(out[r])
      world.attachKube(out[r], r, { namespace: 'apigee', name: 'helloworld' })
    }
    return out
  }

  test('distribute 80/20 through Envoy; the answer names region, version and instance; Envoy has both localities', async () => {
    world = await TrafficWorld.start({ regions: { eastus: { weight: 80, replicas: 2 }, westeurope: { weight: 20, replicas: 1, version: 'v2' } } })
    const c = await count(world.url + '/hello', 200)
    expect(c.eastus + c.westeurope).toBe(200)
    expect(c.westeurope).toBeGreaterThan(25)
    expect(c.westeurope).toBeLessThan(55)
    const body = JSON.parse((await get(world.url)).body)
    expect(body).toEqual(expect.objectContaining({ service: 'helloworld', region: expect.any(String), instance: expect.stringMatching(/^helloworld-/) }))
    const hosts = await world.gateways.get('eastus')!.hosts()
    expect(hosts.map((h) => h.region).sort()).toEqual(['eastus', 'eastus', 'westeurope'])
    expect(await world.requests()).toBe(201)
  })

  test('scale to zero: EDS push after the delay, Envoy loses the locality, traffic goes to the survivor; back again', async () => {
    world = await TrafficWorld.start({ regions: { eastus: { weight: 90, replicas: 2 }, westeurope: { weight: 10, replicas: 1 } }, endpointDelayMs: 150 })
    const t0 = Date.now()
    await world.setReplicas('eastus', 0)
    await sleep(300)
    const lost = world.truthAfter('eastus', 'capacity-lost', t0)!
    expect(lost - t0).toBeGreaterThanOrEqual(140)
    const push = world.truth.find((e) => e.event === 'endpoints' && e.at >= t0)!
    expect(lost - push.at).toBeLessThan(60)
    expect(await count(world.url, 30)).toEqual({ westeurope: 30 })
    const t1 = Date.now()
    await world.setReplicas('eastus', 2)
    await sleep(300)
    expect(world.truthAfter('eastus', 'capacity-regained', t1)).toBeDefined()
    expect((await count(world.url, 40)).eastus).toBeGreaterThan(25)
  })

  test('Istio objects changed in the cluster change Envoy: a VirtualService split over subsets, a DestinationRule at 50/50', async () => {
    world = await TrafficWorld.start({ regions: { eastus: { weight: 90, replicas: 1 }, westeurope: { weight: 10, replicas: 1 } } })
    const k = (await attach()).eastus
    const dr = k.get('destinationrules', 'apigee', 'helloworld')!
    ;(dr as any).spec.trafficPolicy.loadBalancer.localityLbSetting.distribute = [{ from: '*', to: { 'eastus/*': 50, 'westeurope/*': 50 } }]
    k.apply(dr)
    await sleep(400)
    const c = await count(world.url, 200)
    expect(c.westeurope).toBeGreaterThan(70)
    k.apply({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'helloworld', namespace: 'apigee' },
      spec: { host: 'helloworld', subsets: [{ name: 'east', labels: { region: 'eastus' } }, { name: 'west', labels: { region: 'westeurope' } }] }
    } as any)
    k.apply({
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'helloworld', namespace: 'apigee' },
      spec: { hosts: ['*'], gateways: ['helloworld-gateway'], http: [{ route: [{ destination: { host: 'helloworld', subset: 'east' }, weight: 100 }, { destination: { host: 'helloworld', subset: 'west' }, weight: 0 }] }] }
    } as any)
    await sleep(400)
    expect(await count(world.url, 20)).toEqual({ eastus: 20 })
    // subsets are separate clusters: with east gone, no failover to west
    await world.setReplicas('eastus', 0)
    await sleep(400)
    expect(await count(world.url, 10)).toEqual({ 503: 10 })
  })

  test('HTTPChaos on the eastus pods: Envoy ejects them (outlier detection), westeurope takes all; deleted: they return', async () => {
    world = await TrafficWorld.start({
      regions: { eastus: { weight: 90, replicas: 2 }, westeurope: { weight: 10, replicas: 2 } },
      outlierDetection: { consecutive5xxErrors: 1, interval: '100ms', baseEjectionTime: '1s', maxEjectionPercent: 100 }
    })
    const k = (await attach()).eastus
    const t0 = Date.now()
    k.apply({
      apiVersion: 'chaos-mesh.org/v1alpha1',
      kind: 'HTTPChaos',
      metadata: { name: 'drill', namespace: 'apigee' },
      spec: { mode: 'all', selector: { namespaces: ['apigee'], labelSelectors: { app: 'helloworld' } }, target: 'Response', port: 80, replace: { code: 503 }, duration: '1h' }
    } as any)
    await sleep(150)
    expect(world.truthAfter('eastus', 'chaos-injected', t0)).toBeDefined()
    const got: Array<{ status: number; region?: string }> = []
    for (let i = 0; i < 40; i++) got.push(await get(world.url))
    const errors = got.filter((r) => r.status === 503).length
    expect(errors).toBeGreaterThanOrEqual(2)
    expect(errors).toBeLessThanOrEqual(4)
    expect(got.slice(10).every((r) => r.status === 200 && r.region === 'westeurope')).toBe(true)
    await sleep(50)
    expect(world.truth.filter((e) => e.event === 'ejected' && e.region === 'eastus').length).toBe(2)
    expect(world.truthAfter('eastus', 'capacity-lost', t0)).toBeDefined()
    const st = (k.get('httpchaos', 'apigee', 'drill') as any).status
    expect(st.conditions.find((c: any) => c.type === 'AllInjected').status).toBe('True')
    expect(st.experiment.containerRecords).toHaveLength(2)
    const t1 = Date.now()
    k.delete('httpchaos', 'apigee', 'drill')
    await sleep(1500)
    expect(world.truthAfter('eastus', 'capacity-regained', t1)).toBeDefined()
    expect((await count(world.url, 40)).eastus).toBeGreaterThan(25)
  })

  test('partial failure under distribute: 1 of 2 eastus pods ejected, Envoy keeps min(1, 1.4 x 50%) = 70% of eastus weight', async () => {
    world = await TrafficWorld.start({
      regions: { eastus: { weight: 50, replicas: 2 }, westeurope: { weight: 50, replicas: 2 } },
      outlierDetection: { consecutive5xxErrors: 1, interval: '100ms', baseEjectionTime: '30s', maxEjectionPercent: 100 }
    })
    const k = (await attach()).eastus
    k.apply({
      apiVersion: 'chaos-mesh.org/v1alpha1',
      kind: 'HTTPChaos',
      metadata: { name: 'one', namespace: 'apigee' },
      spec: { mode: 'one', selector: { labelSelectors: { app: 'helloworld' } }, target: 'Response', port: 80, abort: true, duration: '1h' }
    } as any)
    await sleep(150)
    await count(world.url, 10)
    await sleep(50)
    expect(world.truth.filter((e) => e.event === 'ejected').length).toBe(1)
    // eastus 50 x 0.7 = 35 against westeurope 50: eastus 41.2%
    const c = await count(world.url, 400)
    expect(c.eastus / 400).toBeGreaterThan(0.33)
    expect(c.eastus / 400).toBeLessThan(0.49)
  })
})
