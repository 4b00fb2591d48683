import { request } from 'node:http'
import { TrafficWorld } from '../../sandbox/traffic/index.ts'

function get(url: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; body: string; region?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, region: res.headers['x-region'] as string | undefined }))
    })
    req.on('error', reject)
    req.end()
  })
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('sandbox traffic world', () => {
  let world: TrafficWorld
  afterEach(async () => world?.close())

  test('weighted split, answers name region/version/instance', async () => {
    world = await TrafficWorld.start({ regions: { eastus: { weight: 80, replicas: 2 }, westeurope: { weight: 20, replicas: 1, version: 'v2' } }, seed: 3 })
    const counts: Record<string, number> = {}
    for (let i = 0; i < 400; i++) {
      const r = await get(world.url + '/hello')
      expect(r.status).toBe(200)
      counts[r.region!] = (counts[r.region!] ?? 0) + 1
    }
    expect(counts.westeurope).toBeGreaterThan(55)
    expect(counts.westeurope).toBeLessThan(105)
    const body = JSON.parse((await get(world.url)).body)
    expect(body).toEqual(expect.objectContaining({ service: 'helloworld', region: expect.any(String), instance: expect.stringMatching(/^helloworld-/) }))
  })

  test('scale to zero: endpoints removed after the EDS delay, traffic fails over, truth recorded', async () => {
    world = await TrafficWorld.start({ regions: { eastus: { weight: 90, replicas: 2 }, westeurope: { weight: 10, replicas: 1 } }, endpointDelayMs: 100 })
    const t0 = Date.now()
    await world.setReplicas('eastus', 0)
    await sleep(150)
    const lost = world.truthAfter('eastus', 'capacity-lost', t0)!
    expect(lost - t0).toBeGreaterThanOrEqual(90)
    for (let i = 0; i < 30; i++) expect((await get(world.url)).region).toBe('westeurope')
    const t1 = Date.now()
    await world.setReplicas('eastus', 2)
    await sleep(150)
    expect(world.truthAfter('eastus', 'capacity-regained', t1)).toBeDefined()
    let east = 0
    for (let i = 0; i < 30; i++) if ((await get(world.url)).region === 'eastus') east++
    expect(east).toBeGreaterThan(15)
  })

  test('failing pods are ejected by outlier detection; failover off gives 503', async () => {
    world = await TrafficWorld.start({
      regions: { eastus: { weight: 50, replicas: 2 }, westeurope: { weight: 50, replicas: 2 } },
      outlierDetection: { consecutive5xxErrors: 1, intervalMs: 1000, baseEjectionTimeMs: 1000, maxEjectionPercent: 100 }
    })
    const on = await get(world.url + '/__admin/failing/eastus/on', 'POST')
    expect(on.status).toBe(200)
    const got: Array<{ status: number; region?: string }> = []
    for (let i = 0; i < 40; i++) got.push(await get(world.url))
    // one 5xx per eastus replica, then both are ejected and westeurope takes everything
    const errors = got.filter((r) => r.status === 503).length
    expect(errors).toBeGreaterThanOrEqual(2)
    expect(errors).toBeLessThanOrEqual(4)
    expect(got.slice(10).every((r) => r.status === 200 && r.region === 'westeurope')).toBe(true)
    expect(world.truthAfter('eastus', 'capacity-lost', 0)).toBeDefined()
    world.setFailing('eastus', false)
    await sleep(1050)
    expect(world.truthAfter('eastus', 'capacity-regained', 0)).toBeDefined()
    const cfg = JSON.parse((await get(world.url + '/__admin/config')).body)
    expect(cfg.outlierDetection.maxEjectionPercent).toBe(100)
    expect(cfg.localityLbSetting.failover).toContainEqual({ from: 'eastus', to: 'westeurope' })
    await world.close()

    world = await TrafficWorld.start({ regions: { eastus: { weight: 50, replicas: 1 }, westeurope: { weight: 50, replicas: 1 } }, failover: false, seed: 1 })
    await world.setReplicas('eastus', 0)
    const statuses = new Set<number>()
    for (let i = 0; i < 20; i++) statuses.add((await get(world.url)).status)
    expect([...statuses].sort()).toEqual([200, 503])
  })

  test('header fault: requests carrying x-mr-fail for the region get 503', async () => {
    world = await TrafficWorld.start({ regions: { eastus: { weight: 100, replicas: 1 }, westeurope: { weight: 0, replicas: 1 } }, outlierDetection: null })
    expect((await get(world.url, 'GET', { 'x-mr-fail': 'eastus' })).status).toBe(503)
    expect((await get(world.url)).status).toBe(200)
  })
})
