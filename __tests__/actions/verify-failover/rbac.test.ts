// verify-failover through its bundle against API doubles that enforce RBAC (the identity signs in
// with Entra tokens): with docs/rbac/verify-failover.yaml applied the drills run and pass, so the
// file grants every call the code makes; with any one verb of any rule withheld, in the cluster
// that needs it, the step fails naming exactly that permission, once, before anything is probed
// or written. The mesh objects live in westeurope (topology mesh:), the fault is in eastus.
import { join } from 'node:path'
import { startStep } from '../../../sandbox/runner.ts'
import { applyRbac, grantsOf, TestIdentity, writes, type Withheld } from '../../helpers/rbac.ts'
import { NS, requireBundle, startDrill, writeTopology, type Drill } from './world.ts'

const FILE = 'verify-failover.yaml'

beforeAll(() => requireBundle())

describe('verify-failover with the RBAC of docs/rbac/verify-failover.yaml', () => {
  let drill: Drill
  const id = new TestIdentity()
  let env: Record<string, string>
  beforeAll(async () => {
    drill = await startDrill({ regions: { eastus: { weight: 90, replicas: 2 }, westeurope: { weight: 10, replicas: 2 } } }, { entra: id.entra })
    env = { ...drill.env, KUBECONFIG: id.kubeconfig(join(drill.dir, 'identity.kubeconfig'), Object.values(drill.clusters)) }
  })
  afterAll(async () => drill?.close())

  const grantAll = (): void => {
    for (const c of Object.values(drill.clusters)) applyRbac(c, FILE, id.objectId)
  }
  const run = async (mode: string) => {
    for (const c of Object.values(drill.clusters)) c.accessLog.length = 0
    const inputs = {
      topology: writeTopology(drill, join(drill.dir, 'rbac-topology.yml'), { namespace: NS, region: 'westeurope' }),
      weights: 'eastus=90, westeurope=10',
      classify: drill.classify,
      'fault-mode': mode,
      'fault-region': 'eastus',
      'fault-duration': '2s',
      'probe-interval': '20ms'
    }
    return startStep('verify-failover', 'main', inputs, { env }).done
  }

  test.each(['scale-to-zero', 'http-chaos'])('%s: with the documented Roles every permission is held and the drill passes', async (mode) => {
    grantAll()
    const main = await run(mode)
    expect({ code: main.code, log: main.code === 0 ? '' : main.stdout.slice(-2500) }).toEqual({ code: 0, log: '' })
    expect(main.outputs.verdict).toBe('pass')
    expect(main.stdout).toMatch(/region eastus: the identity holds (\d+) of the \1 permissions this step needs/)
    // the changes were made as the identity, under its Role
    expect(drill.clusters.eastus.accessLog.filter((e) => ['patch', 'create', 'delete'].includes(e.verb) && e.resource !== 'selfsubjectaccessreviews').every((e) => e.user === id.objectId && e.status < 400)).toBe(true)
    expect(drill.replicas('eastus')).toEqual({ spec: 2, annotation: undefined, running: 2 })
  })

  // Each verb of each rule, withheld in the cluster that is asked for it (the gate's deployments
  // also in westeurope, the mesh's objects only there).
  const cases = grantsOf(FILE).flatMap((g) => {
    const doc = ['drill', 'mesh', 'lock'][g.doc]
    const mode = doc === 'drill' && g.rule === 3 ? 'http-chaos' : 'scale-to-zero'
    const regions = doc === 'mesh' ? ['westeurope'] : doc === 'drill' && g.rule === 0 ? ['eastus', 'westeurope'] : ['eastus']
    return regions.map((region) => ({ ...g, region, mode, name: `${doc} rule ${g.rule} ${g.verb} in ${region} (${mode})` }))
  })
  test('every rule of the file is withheld in turn', () => {
    expect(cases.map((c) => c.name)).toHaveLength(12)
  })
  test.each(cases)('$name: named once, nothing probed or written', async (c: Withheld & { region: string; mode: string }) => {
    grantAll()
    applyRbac(drill.clusters[c.region], FILE, id.objectId, c)
    const before = await drill.world.requests()
    const main = await run(c.mode)
    expect(main.code).toBe(1)
    const error = main.stdout.split('\n').find((l) => l.startsWith('::error::'))!
    // the cluster holding the mesh objects is labelled by its role there
    const where = `(mesh \\(region ${c.region}\\)|region ${c.region})`
    expect(error).toMatch(new RegExp(`the identity lacks Kubernetes permissions on ${where}: ${c.verb} ${c.resource.replace(/\./g, '\\.')} in namespace ${NS}(%0A|$)`))
    expect(main.stdout.match(/lacks Kubernetes permissions/g)).toHaveLength(1)
    expect(await drill.world.requests()).toBe(before)
    for (const k of Object.values(drill.clusters)) expect(writes(k)).toEqual([])
    expect(drill.replicas('eastus')).toEqual({ spec: 2, annotation: undefined, running: 2 })
    expect(drill.clusters.eastus.list('httpchaos', NS)).toEqual([])
    expect(main.state.fault).toBeUndefined()
  })
})
