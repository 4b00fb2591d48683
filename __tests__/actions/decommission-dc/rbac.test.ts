// decommission-dc through its bundle against API doubles that enforce RBAC (the identity signs in
// with Entra tokens): with docs/rbac/expand-keyspaces.yaml in the region that stays and
// docs/rbac/decommission-dc.yaml in the retiring one, the identity holds every permission the step
// asks for; with any one verb of any rule withheld the step fails naming exactly that permission,
// once, with nothing written to either cluster. No Cassandra: the permission check comes first.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startKubeCluster, type KubeCluster } from '../../../sandbox/kube/index.ts'
import { runAction } from '../../../sandbox/runner.ts'
import { ensureBundle } from '../../helpers/bundle.ts'
import { applyRbac, grantsOf, TestIdentity, writes, type Withheld } from '../../helpers/rbac.ts'

const FILES = { source: 'expand-keyspaces.yaml', target: 'decommission-dc.yaml' } as const
type Role = keyof typeof FILES

beforeAll(() => ensureBundle('decommission-dc'), 600_000)

describe('decommission-dc with the documented RBAC', () => {
  const id = new TestIdentity()
  const kube = {} as Record<Role, KubeCluster>
  let kubeconfig: string
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mr-decom-rbac-'))
    for (const role of ['source', 'target'] as const) kube[role] = await startKubeCluster({ name: `aks-${role}`, tlsDir: join(dir, 'tls'), namespaces: ['apigee'], entra: id.entra })
    kubeconfig = id.kubeconfig(join(dir, 'identity.kubeconfig'), Object.values(kube))
  })
  afterAll(async () => {
    for (const k of Object.values(kube)) await k?.close()
  })

  const grant = (drop?: Withheld & { role: Role }): void => {
    for (const role of ['source', 'target'] as const) applyRbac(kube[role], FILES[role], id.objectId, drop?.role === role ? drop : undefined)
  }
  const run = async (extra: Record<string, string> = {}) => {
    for (const k of Object.values(kube)) k.accessLog.length = 0
    const inputs = { 'source-datacenter': 'dc-1', 'target-datacenter': 'dc-2', 'source-context': 'aks-source', 'target-context': 'aks-target', 'poll-interval': '1s', ...extra }
    const r = await runAction('decommission-dc', inputs, { env: { KUBECONFIG: kubeconfig } })
    return { ...r, out: r.stdout.replace(/%0A/g, '\n') }
  }

  test('with the documented Roles every permission is held (the step goes on to look for the Cassandra pods)', async () => {
    grant()
    const r = await run()
    expect(r.out).toMatch(/context aks-source: the identity holds 7 of the 7 permissions this step needs/)
    expect(r.out).toMatch(/context aks-target: the identity holds 3 of the 3 permissions this step needs/)
    expect(r.out).not.toMatch(/lacks/)
  })

  test('method uninstall asks nothing of the retiring cluster (it may be gone): no Role there is needed', async () => {
    grant()
    for (const o of [{ kind: 'roles', name: 'mr-actions-decommission' }, { kind: 'rolebindings', name: 'mr-actions-decommission' }]) kube.target.delete(o.kind, 'apigee', o.name)
    const r = await run({ method: 'uninstall', 'uninstall-command': 'exit 3', 'dry-run': 'true' })
    expect(r.out).toMatch(/context aks-source: the identity holds 7 of the 7/)
    expect(r.out).not.toMatch(/lacks|context aks-target: the identity holds/)
    expect(kube.target.accessLog.filter((e) => e.resource === 'selfsubjectaccessreviews')).toEqual([])
  })

  const cases = (['source', 'target'] as const).flatMap((role) => grantsOf(FILES[role]).map((g) => ({ ...g, role })))
  test('every rule of both files is withheld in turn', () => {
    expect(cases).toHaveLength(10)
  })
  test.each(cases)('$role: $verb $resource (rule $rule of $file) withheld: named once, nothing written', async (c) => {
    grant(c)
    const r = await run()
    expect(r.code).toBe(1)
    const named = r.out.match(/the identity lacks Kubernetes permissions on context (aks-\w+): (.+)/)
    expect(named?.slice(1, 3)).toEqual([`aks-${c.role}`, expect.stringMatching(new RegExp(`^${c.verb} ${c.resource.replace(/\./g, '\\.')}( '[\\w-]+')? in namespace apigee$`))])
    expect(r.out.match(/lacks Kubernetes permissions/g)).toHaveLength(1)
    for (const k of Object.values(kube)) expect(writes(k)).toEqual([])
  })
})
