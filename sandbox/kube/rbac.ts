// Authorization as the API server's RBAC authorizer does it, from the Role, ClusterRole,
// RoleBinding and ClusterRoleBinding objects stored in the cluster (rbac.authorization.k8s.io/v1),
// and SelfSubjectAccessReview (authorization.k8s.io/v1, what `kubectl auth can-i` asks).
// A request is allowed when a rule of a role bound to the user (or one of its groups) matches its
// verb, API group, resource (`pods/exec` for a subresource) and name; a RoleBinding grants only
// in its namespace. The bootstrap objects a real cluster has: cluster-admin bound to the group
// system:masters, and system:basic-user (self reviews) bound to system:authenticated.
import { ApiError, type Obj } from './errors.ts'
import { age, type Column, type ResourceType } from './resources.ts'
import type { Store } from './store.ts'
import type { KubeObject } from './types.ts'

export interface UserInfo {
  name: string
  groups: string[]
}

/** What the authorizer decides on (authorizer.Attributes). */
export interface Attributes {
  verb: string
  group: string
  resource: string
  subresource: string
  namespace: string
  name: string
}

export interface Decision {
  allowed: boolean
  reason: string
}

const NAME: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name }
const CREATED: Column = { name: 'Created At', type: 'date', cell: (o) => o.metadata.creationTimestamp }
const roleRef: Column = { name: 'Role', type: 'string', cell: (o) => `${String((o as Obj).roleRef?.kind)}/${String((o as Obj).roleRef?.name)}` }
const G = 'rbac.authorization.k8s.io'

/** The kinds this module adds to a cluster; `verbs` overrides what discovery announces. */
export const RBAC_RESOURCES: Array<ResourceType & { verbs?: string[] }> = [
  { group: G, version: 'v1', name: 'roles', singular: 'role', kind: 'Role', namespaced: true, columns: [NAME, CREATED] },
  { group: G, version: 'v1', name: 'clusterroles', singular: 'clusterrole', kind: 'ClusterRole', namespaced: false, columns: [NAME, CREATED] },
  { group: G, version: 'v1', name: 'rolebindings', singular: 'rolebinding', kind: 'RoleBinding', namespaced: true, columns: [NAME, roleRef, { name: 'Age', type: 'string', cell: age }] },
  { group: G, version: 'v1', name: 'clusterrolebindings', singular: 'clusterrolebinding', kind: 'ClusterRoleBinding', namespaced: false, columns: [NAME, roleRef, { name: 'Age', type: 'string', cell: age }] },
  { group: 'authorization.k8s.io', version: 'v1', name: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', kind: 'SelfSubjectAccessReview', namespaced: false, verbs: ['create'], columns: [NAME] }
]

/** The bootstrap roles and bindings every cluster starts with. */
export function bootstrapRbac(store: Store): void {
  const rb = (kind: string, name: string, body: Obj): void => void store.apply({ apiVersion: `${G}/v1`, kind, metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } }, ...body } as KubeObject)
  rb('ClusterRole', 'cluster-admin', { rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['*'], verbs: ['*'] }] })
  rb('ClusterRoleBinding', 'cluster-admin', { roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ apiGroup: G, kind: 'Group', name: 'system:masters' }] })
  rb('ClusterRole', 'system:basic-user', { rules: [{ apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] }] })
  rb('ClusterRoleBinding', 'system:basic-user', { roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'system:basic-user' }, subjects: [{ apiGroup: G, kind: 'Group', name: 'system:authenticated' }] })
}

const has = (list: unknown, v: string): boolean => Array.isArray(list) && (list.includes('*') || list.includes(v))

function ruleAllows(rule: Obj, a: Attributes): boolean {
  if (!has(rule.verbs, a.verb) || !has(rule.apiGroups, a.group)) return false
  const wanted = a.subresource ? `${a.resource}/${a.subresource}` : a.resource
  const resources = (rule.resources ?? []) as string[]
  const resourceOk = resources.some((r) => r === '*' || r === wanted || (a.subresource !== '' && r === `*/${a.subresource}`))
  if (!resourceOk) return false
  const names = (rule.resourceNames ?? []) as string[]
  return names.length === 0 || (a.name !== '' && names.includes(a.name))
}

function subjectMatches(subjects: unknown, user: UserInfo, bindingNs: string): boolean {
  return ((subjects ?? []) as Obj[]).some((s) => {
    if (s.kind === 'User') return s.name === user.name
    if (s.kind === 'Group') return user.groups.includes(String(s.name))
    if (s.kind === 'ServiceAccount') return user.name === `system:serviceaccount:${String(s.namespace ?? bindingNs)}:${String(s.name)}`
    return false
  })
}

function rulesOf(store: Store, ref: Obj, bindingNs: string): Obj[] {
  const role = ref?.kind === 'ClusterRole' ? store.get('clusterroles', undefined, String(ref.name)) : store.get('roles', bindingNs, String(ref?.name))
  return ((role as Obj | undefined)?.rules ?? []) as Obj[]
}

/** The RBAC authorizer's decision, with its reason for an allow (as SubjectAccessReview reports it). */
export function authorize(store: Store, user: UserInfo, a: Attributes): Decision {
  for (const b of store.list('clusterrolebindings') as Obj[]) {
    if (!subjectMatches(b.subjects, user, '')) continue
    if (rulesOf(store, b.roleRef, '').some((r) => ruleAllows(r, a))) {
      return { allowed: true, reason: `RBAC: allowed by ClusterRoleBinding "${String(b.metadata.name)}" of ClusterRole "${String(b.roleRef.name)}" to ${subjectKind(b.subjects, user)}` }
    }
  }
  if (a.namespace) {
    for (const b of store.list('rolebindings', a.namespace) as Obj[]) {
      if (!subjectMatches(b.subjects, user, a.namespace)) continue
      if (rulesOf(store, b.roleRef, a.namespace).some((r) => ruleAllows(r, a))) {
        return { allowed: true, reason: `RBAC: allowed by RoleBinding "${String(b.metadata.name)}/${a.namespace}" of ${String(b.roleRef.kind)} "${String(b.roleRef.name)}" to ${subjectKind(b.subjects, user)}` }
      }
    }
  }
  return { allowed: false, reason: '' }
}

function subjectKind(subjects: unknown, user: UserInfo): string {
  const s = ((subjects ?? []) as Obj[]).find((x) => (x.kind === 'User' && x.name === user.name) || (x.kind === 'Group' && user.groups.includes(String(x.name))))
  return s ? `${String(s.kind)} "${String(s.name)}"` : `User "${user.name}"`
}

/** The API server's 403 for a denied request (responsewriters.Forbidden). */
export function forbidden(user: UserInfo, a: Attributes): ApiError {
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource
  const where = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope'
  const why = `User "${user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.group}" ${where}`
  const qualified = a.group ? `${a.resource}.${a.group}` : a.resource
  const message = a.name ? `${qualified} "${a.name}" is forbidden: ${why}` : `${qualified} is forbidden: ${why}`
  return new ApiError(403, 'Forbidden', message, { ...(a.name ? { name: a.name } : {}), ...(a.group ? { group: a.group } : {}), kind: a.resource })
}

/** Answers a SelfSubjectAccessReview for `user` (the body as kubectl auth can-i sends it). */
export function selfSubjectAccessReview(store: Store, user: UserInfo, body: Obj | undefined): Obj {
  const spec = (body?.spec ?? {}) as Obj
  const ra = spec.resourceAttributes as Obj | undefined
  const nra = spec.nonResourceAttributes as Obj | undefined
  if (!ra && !nra) {
    throw new ApiError(422, 'Invalid', 'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified', { group: 'authorization.k8s.io', kind: 'SelfSubjectAccessReview' })
  }
  let status: Decision
  if (ra) {
    status = authorize(store, user, {
      verb: String(ra.verb ?? ''),
      group: String(ra.group ?? ''),
      resource: String(ra.resource ?? ''),
      subresource: String(ra.subresource ?? ''),
      namespace: String(ra.namespace ?? ''),
      name: String(ra.name ?? '')
    })
  } else {
    // non-resource URLs (discovery, /version, /healthz) are open to every authenticated user here
    status = { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated"' }
  }
  return {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec,
    status: status.allowed ? { allowed: true, reason: status.reason } : { allowed: false }
  }
}
