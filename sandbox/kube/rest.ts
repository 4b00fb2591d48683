// The REST paths of the API server: discovery (/version, /api, /apis, resource lists, an empty
// /openapi/v2) and get/list/create/update/patch/delete/deletecollection on every served kind, with
// the scale subresource; watch, logs and exec are handed to their own modules.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ApiError, clone, methodNotAllowed, notFound, type Obj } from './errors.ts'
import { readBody, wantsTable, type Http, type Send } from './http.ts'
import { logs } from './logs.ts'
import { jsonPatch, JsonPatchError, mergePatch, strategicMergePatch } from './patch.ts'
import { select, table } from './query.ts'
import { apiResources, groupVersion, type ResourceType } from './resources.ts'
import { authorize, forbidden, selfSubjectAccessReview, type Attributes, type UserInfo } from './rbac.ts'
import type { Store } from './store.ts'
import type { AccessLogEntry, KubeObject } from './types.ts'
import { watch } from './watch.ts'

function groups(s: Store): Map<string, ResourceType[]> {
  const m = new Map<string, ResourceType[]>()
  for (const t of s.types) {
    const gv = groupVersion(t)
    m.set(gv, [...(m.get(gv) ?? []), t])
  }
  return m
}

export async function route(h: Http, req: IncomingMessage, res: ServerResponse, url: URL, entry: AccessLogEntry, send: Send, user: UserInfo): Promise<void> {
  const s = h.store
  const segs = url.pathname.split('/').filter(Boolean).map(decodeURIComponent)
  const p = url.pathname.replace(/\/+$/, '') || '/'
  const method = req.method ?? 'GET'
  if (p === '/version') {
    const gitVersion = s.opts.gitVersion ?? 'v1.29.4'
    const [major, minor] = gitVersion.replace(/^v/, '').split('.')
    return send(200, { major, minor, gitVersion, gitCommit: 'sandbox', gitTreeState: 'clean', buildDate: '2024-01-01T00:00:00Z', goVersion: 'go1.21.9', compiler: 'gc', platform: 'linux/amd64' })
  }
  if (p === '/healthz' || p === '/livez' || p === '/readyz') return send(200, 'ok', 'text/plain')
  if (p === '/api') {
    return send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: url.host }] })
  }
  if (p === '/apis') {
    const groups = new Map<string, string[]>()
    for (const t of s.types) if (t.group) groups.set(t.group, [...new Set([...(groups.get(t.group) ?? []), t.version])])
    return send(200, {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups].map(([name, versions]) => ({
        name,
        versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
        preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] }
      }))
    })
  }
  if (p === '/openapi/v2' || p.startsWith('/openapi/')) {
    // No schemas: kubectl then skips client-side validation for every kind (an empty document).
    return send(200, Buffer.alloc(0), 'application/octet-stream')
  }
  let group: string
  let version: string
  let rest: string[]
  if (segs[0] === 'api' && segs.length >= 2) {
    group = ''
    version = segs[1]
    rest = segs.slice(2)
  } else if (segs[0] === 'apis' && segs.length >= 3) {
    group = segs[1]
    version = segs[2]
    rest = segs.slice(3)
  } else if (segs[0] === 'apis' && segs.length === 2) {
    const versions = [...new Set(s.types.filter((t) => t.group === segs[1]).map((t) => t.version))]
    if (!versions.length) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource')
    return send(200, { kind: 'APIGroup', apiVersion: 'v1', name: segs[1], versions: versions.map((v) => ({ groupVersion: `${segs[1]}/${v}`, version: v })), preferredVersion: { groupVersion: `${segs[1]}/${versions[0]}`, version: versions[0] } })
  } else {
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource')
  }
  entry.group = group
  entry.version = version
  const gvTypes = groups(s).get(group ? `${group}/${version}` : version)
  if (!gvTypes) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource')
  if (rest.length === 0) {
    return send(200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources: withVerbs(apiResources(gvTypes), gvTypes) })
  }
  let ns = ''
  if (rest[0] === 'namespaces' && rest.length >= 3 && gvTypes.some((t) => t.namespaced && t.name === rest[2])) {
    ns = rest[1]
    rest = rest.slice(2)
  }
  const t = gvTypes.find((x) => x.name === rest[0])
  if (!t || rest.length > 3) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource')
  const name = rest[1] ?? ''
  const sub = rest[2] ?? ''
  Object.assign(entry, { resource: t.name, name, subresource: sub, namespace: ns })
  if (sub && !(t.subresources ?? []).includes(sub)) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource')
  const q = url.searchParams
  const dryRun = q.getAll('dryRun').includes('All')
  if (t.namespaced && name && !ns) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource')
  const verb = requestVerb(method, name, sub, q)
  if (verb) checkAccess(h, user, { verb, group, resource: t.name, subresource: sub, namespace: ns, name })
  if (t.kind === 'SelfSubjectAccessReview') {
    if (method !== 'POST' || name) throw methodNotAllowed()
    entry.verb = 'create'
    return send(201, selfSubjectAccessReview(s, user, (await readBody(req)) as Obj | undefined))
  }

  if (!name) {
    if (method === 'GET' && (q.get('watch') === 'true' || q.get('watch') === '1')) {
      entry.verb = 'watch'
      entry.status = 200
      return watch(h, req, res, t, ns, q)
    }
    if (method === 'GET') {
      entry.verb = 'list'
      const items = select(s, t, ns, q)
      if (wantsTable(req)) return send(200, table(s, t, items, req, q))
      return send(200, {
        kind: `${t.kind}List`,
        apiVersion: groupVersion(t),
        metadata: { resourceVersion: String(s.rv) },
        items: items.map(clone)
      })
    }
    if (method === 'POST') {
      entry.verb = 'create'
      if (t.namespaced && !ns) throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`)
      const body = await readBody(req)
      return send(201, s.create(t, ns, body as KubeObject, dryRun))
    }
    if (method === 'DELETE') {
      entry.verb = 'deletecollection'
      const items = select(s, t, ns, q)
      for (const o of items) s.remove(t, ns || String(o.metadata.namespace ?? ''), String(o.metadata.name), dryRun)
      return send(200, { kind: `${t.kind}List`, apiVersion: groupVersion(t), metadata: { resourceVersion: String(s.rv) }, items })
    }
    throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
  }

  if (sub === 'log') {
    entry.verb = 'get'
    return logs(h, req, res, ns, name, q, entry)
  }
  if (sub === 'exec' || sub === 'attach' || sub === 'portforward') {
    entry.verb = method === 'POST' ? 'create' : 'get'
    req.resume()
    throw new ApiError(400, 'BadRequest', 'Upgrade request required')
  }
  if (sub === 'scale') return scale(s, req, t, ns, name, q, entry, send, dryRun)

  switch (method) {
    case 'GET': {
      entry.verb = 'get'
      const o = s.stored(t, ns, name)
      if (!o) throw notFound(t, name)
      if (wantsTable(req)) return send(200, table(s, t, [o], req, q))
      return send(200, o)
    }
    case 'PUT': {
      entry.verb = 'update'
      const body = (await readBody(req)) as Obj
      return send(200, s.update(t, ns, name, body, dryRun, { subresource: sub }))
    }
    case 'PATCH': {
      entry.verb = 'patch'
      const ct = String(req.headers['content-type'] ?? '').split(';')[0].trim()
      entry.patchType = ct
      const patch = await readBody(req)
      const old = s.stored(t, ns, name)
      if (!old) throw notFound(t, name)
      const patched = applyPatch(ct, sub === 'status' ? { status: (old as Obj).status } : old, patch) as Obj
      if (!patched || typeof patched !== 'object') throw new ApiError(422, 'Invalid', 'the patch produced no object')
      patched.metadata = { ...(patched.metadata ?? old.metadata) }
      const patchRv = (patch as Obj)?.metadata?.resourceVersion
      if (!patchRv) patched.metadata.resourceVersion = undefined
      return send(200, s.update(t, ns, name, sub === 'status' ? { metadata: { ...old.metadata, resourceVersion: patchRv }, status: patched.status } : patched, dryRun, { subresource: sub }))
    }
    case 'DELETE': {
      entry.verb = 'delete'
      await readBody(req).catch(() => undefined)
      return send(200, s.remove(t, ns, name, dryRun))
    }
    default:
      throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
  }
}

async function scale(s: Store, req: IncomingMessage, t: ResourceType, ns: string, name: string, q: URLSearchParams, entry: AccessLogEntry, send: (code: number, body: unknown) => void, dryRun: boolean): Promise<void> {
  const scaleOf = (o: Obj): Obj => ({
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace: ns, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
    spec: { replicas: o.spec?.replicas ?? 0 },
    status: {
      replicas: o.status?.replicas ?? 0,
      selector: Object.entries((o.spec?.selector?.matchLabels ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',')
    }
  })
  const cur = s.stored(t, ns, name) as Obj | undefined
  if (req.method === 'GET') {
    entry.verb = 'get'
    if (!cur) throw notFound(t, name)
    return send(200, scaleOf(cur))
  }
  const body = await readBody(req)
  if (!cur) throw notFound(t, name)
  let replicas: unknown
  let rv: string | undefined
  if (req.method === 'PUT') {
    entry.verb = 'update'
    replicas = (body as Obj)?.spec?.replicas
    rv = (body as Obj)?.metadata?.resourceVersion
  } else if (req.method === 'PATCH') {
    entry.verb = 'patch'
    const ct = String(req.headers['content-type'] ?? '').split(';')[0].trim()
    entry.patchType = ct
    const patched = applyPatch(ct, scaleOf(cur), body) as Obj
    replicas = patched?.spec?.replicas
    rv = (body as Obj)?.metadata?.resourceVersion
  } else throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw new ApiError(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`)
  }
  const next = clone(cur)
  next.spec.replicas = replicas
  next.metadata.resourceVersion = rv
  const updated = s.update(t, ns, name, next, dryRun) as Obj
  void q
  return send(200, scaleOf(updated))
}

function applyPatch(contentType: string, target: unknown, patch: unknown): unknown {
  try {
    switch (contentType) {
      case 'application/merge-patch+json':
        return mergePatch(target, patch)
      case 'application/strategic-merge-patch+json':
        return strategicMergePatch(target, patch)
      case 'application/json-patch+json':
        return jsonPatch(target, patch)
      default:
        throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`)
    }
  } catch (err) {
    if (err instanceof JsonPatchError) throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${err.message}`)
    throw err
  }
}


/** The Kubernetes verb of a resource request (what RBAC rules name); '' for a method with none. */
export function requestVerb(method: string, name: string, sub: string, q: URLSearchParams): string {
  const watching = q.get('watch') === 'true' || q.get('watch') === '1'
  if (sub === 'exec' || sub === 'attach' || sub === 'portforward') return method === 'POST' ? 'create' : 'get'
  if (!name) return ({ GET: watching ? 'watch' : 'list', POST: 'create', DELETE: 'deletecollection' } as Record<string, string>)[method] ?? ''
  return ({ GET: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete', POST: 'create' } as Record<string, string>)[method] ?? ''
}

/** 403 in the API server's words unless RBAC (when enforced) allows the request. */
export function checkAccess(h: Http, user: UserInfo, a: Attributes): void {
  if (!h.rbac) return
  if (!authorize(h.store, user, a).allowed) throw forbidden(user, a)
}

/** Discovery: the verbs a kind really serves where they are not the usual eight. */
function withVerbs(list: Obj[], types: Array<ResourceType & { verbs?: string[] }>): Obj[] {
  return list.map((r) => {
    const t = types.find((x) => x.name === r.name)
    return t?.verbs ? { ...r, verbs: t.verbs } : r
  })
}
