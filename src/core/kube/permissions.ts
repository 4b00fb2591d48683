// The Kubernetes permissions each action needs, in one place: the README's RBAC YAML
// (docs/rbac/<action>.yaml) is tested against these lists, the actions ask the API server for
// them (SelfSubjectAccessReview, as `kubectl auth can-i` does) before they change anything, and
// a 403 met anyway is translated back into the permission it lacked.
import { ActionError, PreflightError } from '../errors.ts'
import type { Kubectl } from './kubectl.ts'

/** One verb on one resource (optionally one named object); no namespace = cluster-scoped. */
export interface Permission {
  verb: string
  group: string
  /** Plural resource, with the subresource after a slash (pods/exec). */
  resource: string
  namespace?: string
  name?: string
}

export interface Names {
  /** Cassandra's namespace (apigee). */
  namespace: string
  credentialsSecret: string
  caNamespace: string
  caSecret: string
}

export const DEFAULT_NAMES: Names = { namespace: 'apigee', credentialsSecret: 'apigee-datastore-default-creds', caNamespace: 'cert-manager', caSecret: 'apigee-ca' }

const p = (verb: string, resource: string, namespace?: string, name?: string, group = ''): Permission => ({ verb, group, resource, ...(namespace ? { namespace } : {}), ...(name ? { name } : {}) })
const APIGEE = 'apigee.cloud.google.com'
const ISTIO = 'networking.istio.io'
const CHAOS_MESH = 'chaos-mesh.org'

/** Reading the Cassandra pods and running cqlsh / nodetool in them with the datastore credentials. */
// kubectl exec reads the pod (GET) before it opens the exec stream: list alone is not enough
const cassandraAccess = (n: Names): Permission[] => [p('list', 'pods', n.namespace), p('get', 'pods', n.namespace), p('create', 'pods/exec', n.namespace), p('get', 'secrets', n.namespace, n.credentialsSecret)]

/** The one-writer lock (lease.ts): read, create, and renew / take over / release by replace. */
const leaseLock = (n: Names): Permission[] => ['get', 'create', 'update'].map((v) => p(v, 'leases', n.namespace, undefined, 'coordination.k8s.io'))

/** The clusters an action talks to, each with what it needs there. */
export type ActionPermissions = Record<'source' | 'target', Permission[]>

export const ACTION_PERMISSIONS: Record<string, (n: Names, o?: { crd?: boolean; uninstall?: boolean }) => Partial<ActionPermissions>> = {
  'expand-keyspaces': (n) => ({ source: [...cassandraAccess(n), ...leaseLock(n)] }),
  // the ring, removenode and the lock from the region that stays; nodetool decommission in the
  // retiring region's pods (method uninstall: the user's command removes them, nothing is asked there)
  'decommission-dc': (n, o = {}) => ({
    source: [...cassandraAccess(n), ...leaseLock(n)],
    target: o.uninstall ? [] : [p('list', 'pods', n.namespace), p('get', 'pods', n.namespace), p('create', 'pods/exec', n.namespace)]
  }),
  'configure-seed-host': (n) => ({
    source: [...cassandraAccess(n), p('get', 'secrets', n.caNamespace, n.caSecret), p('get', 'namespaces', undefined, n.namespace)],
    target: [
      p('list', 'pods', n.namespace),
      p('get', 'secrets', n.caNamespace, n.caSecret),
      p('create', 'secrets', n.caNamespace),
      p('update', 'secrets', n.caNamespace, n.caSecret),
      p('get', 'namespaces', undefined, n.namespace),
      p('get', 'namespaces', undefined, n.caNamespace),
      p('create', 'namespaces')
    ]
  }),
  'rebuild-dc': (n, o = {}) => ({
    source: [...cassandraAccess(n), ...leaseLock(n)],
    target: [
      ...cassandraAccess(n),
      ...(o.crd
        ? [
            ...['get', 'list', 'create', 'patch', 'delete'].map((v) => p(v, 'cassandradatareplications', n.namespace, undefined, APIGEE)),
            ...['get', 'list'].map((v) => p(v, 'apigeedatastores', n.namespace, undefined, APIGEE))
          ]
        : [])
    ]
  })
}

/**
 * verify-failover, per cluster: where the mesh's Istio objects are (the prechecks), every region
 * whose deployment the steady-state gate reads, and the fault region, whose deployment is scaled
 * (annotated first) or whose pods an HTTPChaos fails, under the lock.
 */
export const DRILL_PERMISSIONS = {
  mesh: (namespace: string): Permission[] => ['destinationrules', 'virtualservices'].map((r) => p('list', r, namespace, undefined, ISTIO)),
  service: (namespace: string): Permission[] => [p('get', 'deployments', namespace, undefined, 'apps')],
  fault: (mode: string, namespace: string, leaseNamespace: string): Permission[] => [
    ...DRILL_PERMISSIONS.service(namespace),
    ...(mode === 'scale-to-zero' ? [p('patch', 'deployments', namespace, undefined, 'apps'), p('patch', 'deployments/scale', namespace, undefined, 'apps')] : []),
    ...(mode === 'http-chaos' ? ['get', 'create', 'delete'].map((v) => p(v, 'httpchaos', namespace, undefined, CHAOS_MESH)) : []),
    ...leaseLock({ ...DEFAULT_NAMES, namespace: leaseNamespace })
  ]
}

export const describePermission = (x: Permission): string =>
  `${x.verb} ${x.group ? `${x.resource}.${x.group}` : x.resource}${x.name ? ` '${x.name}'` : ''} ${x.namespace ? `in namespace ${x.namespace}` : '(cluster-scoped)'}`

/** A SelfSubjectAccessReview asking for one permission. */
export function accessReview(x: Permission): Record<string, unknown> {
  const [resource, subresource] = x.resource.split('/')
  return {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: {
      resourceAttributes: { verb: x.verb, group: x.group, resource, ...(subresource ? { subresource } : {}), ...(x.namespace ? { namespace: x.namespace } : {}), ...(x.name ? { name: x.name } : {}) }
    }
  }
}

interface ReviewList {
  items?: { status?: { allowed?: boolean; reason?: string } }[]
  status?: { allowed?: boolean }
}

/**
 * The permissions the cluster denies, asked in one `kubectl create -f -` of a List of
 * SelfSubjectAccessReviews (any authenticated user may create them).
 */
export async function missingPermissions(kube: Kubectl, wanted: Permission[]): Promise<Permission[] | undefined> {
  if (wanted.length === 0) return []
  const list = { apiVersion: 'v1', kind: 'List', items: wanted.map(accessReview) }
  const res = await kube.run(['create', '-f', '-', '-o', 'json'], undefined, { stdin: JSON.stringify(list), quiet: true, allowFailure: true })
  // An API server without the authorization API (no RBAC to ask): nothing to check.
  if (res.code !== 0 && /could not find the requested resource|no matches for kind/i.test(res.stderr)) return undefined
  if (res.code !== 0) {
    throw new ActionError(`could not ask ${kube.label} which permissions this identity has (SelfSubjectAccessReview): ${res.stderr.trim().split('\n')[0]}`, 'check that the cluster API is reachable and the sign-in works (kubectl auth can-i --list)')
  }
  // kubectl prints each created object on its own (one JSON document after another), or a List
  const docs = jsonDocuments(res.stdout) as ReviewList[]
  const answers = docs.length === 1 && docs[0].items ? docs[0].items : docs
  if (answers.length !== wanted.length) throw new ActionError(`${kube.label} answered ${answers.length} of ${wanted.length} SelfSubjectAccessReviews`)
  return wanted.filter((_, i) => answers[i]?.status?.allowed !== true)
}

/** Consecutive JSON documents ("{...}{...}" or one per line), parsed in order. */
export function jsonDocuments(text: string): unknown[] {
  const out: unknown[] = []
  let depth = 0
  let start = -1
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
    } else if (c === '"') inString = true
    else if (c === '{' || c === '[') {
      if (depth++ === 0) start = i
    } else if ((c === '}' || c === ']') && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)))
  }
  return out
}

/**
 * Fails (before anything changes) naming every permission the identity lacks, on every cluster
 * of the step at once. Entries for the same cluster are asked together.
 */
export async function requirePermissions(checks: { kube: Kubectl; wanted: Permission[] }[], doc: string, log: (line: string) => void): Promise<void> {
  const merged: { kube: Kubectl; wanted: Permission[] }[] = []
  for (const c of checks) {
    const same = merged.find((m) => m.kube.sameCluster(c.kube))
    if (same) same.wanted.push(...c.wanted)
    else merged.push({ kube: c.kube, wanted: [...c.wanted] })
  }
  const missing = await Promise.all(
    // a cluster the step asks nothing of (decommission-dc's retiring region with method uninstall) is not contacted
    merged.filter((m) => m.wanted.length).map(async ({ kube, wanted }) => {
      const all = dedupe(wanted)
      const lacking = await missingPermissions(kube, all)
      if (lacking === undefined) log(`${kube.label} offers no SelfSubjectAccessReview: permissions not checked in advance`)
      else log(`${kube.label}: the identity holds ${all.length - lacking.length} of the ${all.length} permissions this step needs (SelfSubjectAccessReview)`)
      return lacking?.length ? `on ${kube.label}: ${lacking.map(describePermission).join('; ')}` : undefined
    })
  )
  const lines = missing.filter((x): x is string => x !== undefined)
  if (lines.length === 0) return
  throw new PreflightError(
    `the identity lacks Kubernetes permissions ${lines.join(' | ')}`,
    `apply the Role / ClusterRole of ${doc} (docs/aks.md) bound to this identity, then re-run; nothing was changed`
  )
}

export function dedupe(list: Permission[]): Permission[] {
  const seen = new Set<string>()
  return list.filter((x) => {
    const k = JSON.stringify([x.verb, x.group, x.resource, x.namespace, x.name])
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

/**
 * The permission named in an API server 403 ("User \"x\" cannot create resource \"pods/exec\" in
 * API group \"\" in the namespace \"apigee\""), or undefined when the text is no RBAC denial.
 */
export function forbiddenPermission(stderr: string): Permission | undefined {
  const m = /cannot (\w+) resource "([^"]+)" in API group "([^"]*)"(?: in the namespace "([^"]+)")?/.exec(stderr)
  if (!m) return undefined
  const name = /\b[\w.]+(?:\/\w+)? "([^"]+)" is forbidden/.exec(stderr)?.[1]
  return { verb: m[1], resource: m[2], group: m[3], ...(m[4] ? { namespace: m[4] } : {}), ...(name ? { name } : {}) }
}
