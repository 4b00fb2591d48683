// The RBAC YAML docs/aks.md shows (docs/rbac/*.yaml) grants exactly what the code asks the API
// server for (ACTION_PERMISSIONS), no more and no less; the SelfSubjectAccessReview the actions
// send; the permission read back from a real API server's 403 message.
import { readFileSync } from 'node:fs'
import YAML from 'yaml'
import { ACTION_PERMISSIONS, accessReview, dedupe, DRILL_PERMISSIONS, jsonDocuments, DEFAULT_NAMES, describePermission, forbiddenPermission, type Permission } from '../../../src/core/kube/permissions.ts'

interface Grant {
  verb: string
  group: string
  resource: string
  /** undefined: every namespace (ClusterRole) */
  namespace?: string
  name?: string
}

function grants(file: string): Grant[] {
  const out: Grant[] = []
  for (const doc of YAML.parseAllDocuments(readFileSync(file, 'utf8'))) {
    const o = doc.toJS() as { kind: string; metadata: { namespace?: string }; rules?: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[] }
    if (o.kind !== 'Role' && o.kind !== 'ClusterRole') continue
    for (const r of o.rules ?? [])
      for (const group of r.apiGroups)
        for (const resource of r.resources)
          for (const verb of r.verbs)
            for (const name of r.resourceNames ?? [undefined]) out.push({ verb, group, resource, namespace: o.kind === 'Role' ? o.metadata.namespace : undefined, ...(name ? { name } : {}) })
  }
  return out
}

const covers = (g: Grant, p: Permission): boolean =>
  g.verb === p.verb && g.group === p.group && g.resource === p.resource && (g.namespace === undefined || g.namespace === p.namespace) && (g.name === undefined || g.name === p.name)

function expectExact(file: string, wanted: Permission[]): void {
  const g = grants(file)
  expect(wanted.filter((p) => !g.some((x) => covers(x, p))).map(describePermission)).toEqual([])
  expect(g.filter((x) => !wanted.some((p) => covers(x, p)))).toEqual([])
}

describe('docs/rbac grants exactly what the actions ask for', () => {
  const n = DEFAULT_NAMES
  it('expand-keyspaces (source cluster), also rebuild-dc in the source cluster', () => {
    expectExact('docs/rbac/expand-keyspaces.yaml', ACTION_PERMISSIONS['expand-keyspaces'](n).source!)
    expectExact('docs/rbac/expand-keyspaces.yaml', ACTION_PERMISSIONS['rebuild-dc'](n).source!)
  })
  it('rebuild-dc (new cluster, method crd included)', () => {
    expectExact('docs/rbac/rebuild-dc.yaml', ACTION_PERMISSIONS['rebuild-dc'](n, { crd: true }).target!)
  })
  it('configure-seed-host, source and new cluster', () => {
    expectExact('docs/rbac/configure-seed-host-source.yaml', ACTION_PERMISSIONS['configure-seed-host'](n).source!)
    expectExact('docs/rbac/configure-seed-host-target.yaml', ACTION_PERMISSIONS['configure-seed-host'](n).target!)
  })
  it('decommission-dc: the region that stays as expand-keyspaces, the retiring one (method uninstall: nothing there)', () => {
    expectExact('docs/rbac/expand-keyspaces.yaml', ACTION_PERMISSIONS['decommission-dc'](n).source!)
    expectExact('docs/rbac/decommission-dc.yaml', ACTION_PERMISSIONS['decommission-dc'](n).target!)
    expect(ACTION_PERMISSIONS['decommission-dc'](n, { uninstall: true }).target).toEqual([])
  })
  it('verify-failover: every region (any can be the fault region), the mesh objects, the lock', () => {
    const ns = 'apigee'
    const all = dedupe([...DRILL_PERMISSIONS.mesh(ns), ...DRILL_PERMISSIONS.service(ns), ...['scale-to-zero', 'http-chaos', 'command', 'none'].flatMap((m) => DRILL_PERMISSIONS.fault(m, ns, ns))])
    expectExact('docs/rbac/verify-failover.yaml', all)
    // each mode asks only what it uses
    const kinds = (m: string) => DRILL_PERMISSIONS.fault(m, ns, ns).map((x) => `${x.verb} ${x.resource}`)
    expect(kinds('scale-to-zero')).toEqual(['get deployments', 'patch deployments', 'patch deployments/scale', 'get leases', 'create leases', 'update leases'])
    expect(kinds('http-chaos')).toEqual(['get deployments', 'get httpchaos', 'create httpchaos', 'delete httpchaos', 'get leases', 'create leases', 'update leases'])
  })
  it('docs/aks.md (AKS with Entra ID) shows every file as it is', () => {
    const aks = readFileSync('docs/aks.md', 'utf8')
    for (const f of ['expand-keyspaces', 'rebuild-dc', 'configure-seed-host-source', 'configure-seed-host-target', 'verify-failover', 'decommission-dc']) {
      expect(aks).toContain(readFileSync(`docs/rbac/${f}.yaml`, 'utf8').trim())
    }
  })
  it("each action's README links the files its permissions are in", () => {
    const links: Record<string, string[]> = {
      'expand-keyspaces': ['expand-keyspaces'],
      'rebuild-dc': ['rebuild-dc', 'expand-keyspaces'],
      'configure-seed-host': ['configure-seed-host-source', 'configure-seed-host-target'],
      'verify-failover': ['verify-failover'],
      'decommission-dc': ['decommission-dc', 'expand-keyspaces']
    }
    for (const [action, files] of Object.entries(links)) {
      const readme = readFileSync(`actions/${action}/README.md`, 'utf8')
      for (const f of files) expect({ action, link: readme.includes(`](../../docs/rbac/${f}.yaml)`) }).toEqual({ action, link: true })
    }
  })
})

describe('SelfSubjectAccessReview and 403 messages', () => {
  it('reads the reviews kubectl prints one after another, braces in strings included', () => {
    expect(jsonDocuments('{"a":{"b":"}{"}}\n{"c":[1,"\\"]"]}\n')).toEqual([{ a: { b: '}{' } }, { c: [1, '"]'] }])
  })
  it('asks for a subresource as the authorization API spells it', () => {
    expect(accessReview({ verb: 'create', group: '', resource: 'pods/exec', namespace: 'apigee' })).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace: 'apigee' } }
    })
  })
  it('reads the permission from the API server message (namespaced, named, cluster-scoped)', () => {
    // the text kube-apiserver's RBAC authorizer writes (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go)
    expect(forbiddenPermission('Error from server (Forbidden): secrets "apigee-datastore-default-creds" is forbidden: User "4c1f" cannot get resource "secrets" in API group "" in the namespace "apigee"')).toEqual({
      verb: 'get',
      group: '',
      resource: 'secrets',
      namespace: 'apigee',
      name: 'apigee-datastore-default-creds'
    })
    expect(forbiddenPermission('Error from server (Forbidden): namespaces is forbidden: User "4c1f" cannot create resource "namespaces" in API group "" at the cluster scope')).toEqual({ verb: 'create', group: '', resource: 'namespaces' })
    expect(describePermission(forbiddenPermission('Error from server (Forbidden): pods "apigee-cassandra-default-0" is forbidden: User "4c1f" cannot create resource "pods/exec" in API group "" in the namespace "apigee"')!)).toBe(
      "create pods/exec 'apigee-cassandra-default-0' in namespace apigee"
    )
    expect(forbiddenPermission('error: You must be logged in to the server (Unauthorized)')).toBeUndefined()
  })
})
