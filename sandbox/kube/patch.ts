// The three PATCH flavours kubectl sends: JSON merge patch (RFC 7386: annotate, label, scale, CRs),
// strategic merge patch (apply/patch on built-in types: lists merged by their merge key, with the
// $patch / $setElementOrder / $deleteFromPrimitiveList / $retainKeys directives) and JSON patch
// (RFC 6902, `kubectl patch --type json`).

type Json = unknown
type JsonObject = Record<string, unknown>

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T)
}

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch)
  const out: JsonObject = isObject(target) ? { ...target } : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

// Merge keys of the list fields kubectl's strategic merge patch knows for the kinds served here.
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  envFrom: '',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  ownerReferences: 'uid',
  finalizers: '', // a list of strings: merged as a set
  conditions: 'type',
  topologySpreadConstraints: 'topologyKey'
}

export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch)
  if (patch.$patch === 'replace') {
    const { $patch: _ignored, ...rest } = patch
    return stripDirectives(rest)
  }
  if (patch.$patch === 'delete') return undefined
  const out: JsonObject = isObject(target) ? { ...target } : {}
  const retainKeys = Array.isArray(patch.$retainKeys) ? (patch.$retainKeys as string[]) : null
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length)
      const drop = new Set((v as unknown[]).map((x) => JSON.stringify(x)))
      if (Array.isArray(out[field])) out[field] = (out[field] as unknown[]).filter((x) => !drop.has(JSON.stringify(x)))
      continue
    }
    if (v === null) {
      delete out[k]
      continue
    }
    if (Array.isArray(v) && k in MERGE_KEYS) {
      const merged = mergeList(Array.isArray(out[k]) ? (out[k] as unknown[]) : [], v, MERGE_KEYS[k])
      if (merged === undefined) delete out[k]
      else out[k] = merged
      continue
    }
    const next = strategicMergePatch(out[k], v)
    if (next === undefined) delete out[k]
    else out[k] = next
  }
  if (retainKeys) for (const k of Object.keys(out)) if (!retainKeys.includes(k)) delete out[k]
  return out
}

function mergeList(current: unknown[], patch: unknown[], key: string): unknown[] | undefined {
  const replace = patch.find((p) => isObject(p) && p.$patch === 'replace')
  if (replace) return patch.filter((p) => p !== replace).map(stripDirectives)
  if (!key) {
    // primitive list merged as a set (e.g. finalizers)
    const seen = new Set(current.map((x) => JSON.stringify(x)))
    return [...current, ...patch.filter((x) => !seen.has(JSON.stringify(x)))]
  }
  const out = [...current]
  for (const item of patch) {
    if (!isObject(item) || !(key in item)) {
      out.push(clone(item))
      continue
    }
    const at = out.findIndex((c) => isObject(c) && c[key] === item[key])
    if (item.$patch === 'delete') {
      if (at >= 0) out.splice(at, 1)
      continue
    }
    if (at >= 0) out[at] = strategicMergePatch(out[at], item)
    else out.push(stripDirectives(item))
  }
  return out
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives)
  if (!isObject(v)) return v
  const out: JsonObject = {}
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x)
  return out
}

export class JsonPatchError extends Error {}

function pointer(path: string): string[] {
  if (path === '') return []
  if (!path.startsWith('/')) throw new JsonPatchError(`invalid JSON pointer ${JSON.stringify(path)}`)
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
}

function parentOf(doc: Json, parts: string[]): { parent: JsonObject | unknown[]; key: string } {
  let cur: unknown = doc
  for (const p of parts.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(p)]
    else if (isObject(cur)) cur = cur[p]
    else cur = undefined
    if (cur === undefined) throw new JsonPatchError(`path /${parts.join('/')} does not exist`)
  }
  if (!isObject(cur) && !Array.isArray(cur)) throw new JsonPatchError(`path /${parts.join('/')} does not exist`)
  return { parent: cur, key: parts[parts.length - 1] }
}

function getAt(doc: Json, path: string): Json {
  let cur: unknown = doc
  for (const p of pointer(path)) {
    if (Array.isArray(cur)) cur = cur[Number(p)]
    else if (isObject(cur)) cur = cur[p]
    else cur = undefined
    if (cur === undefined) throw new JsonPatchError(`path ${path} does not exist`)
  }
  return cur
}

/** RFC 6902 JSON patch. */
export function jsonPatch(target: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw new JsonPatchError('a JSON patch must be a list of operations')
  let doc = clone(target)
  for (const raw of ops) {
    if (!isObject(raw)) throw new JsonPatchError('a JSON patch operation must be an object')
    const op = String(raw.op)
    const path = String(raw.path ?? '')
    const parts = pointer(path)
    const add = (value: Json): void => {
      if (parts.length === 0) {
        doc = value
        return
      }
      const { parent, key } = parentOf(doc, parts)
      if (Array.isArray(parent)) parent.splice(key === '-' ? parent.length : Number(key), 0, value)
      else parent[key] = value
    }
    const remove = (): void => {
      const { parent, key } = parentOf(doc, parts)
      if (Array.isArray(parent)) {
        if (Number(key) >= parent.length) throw new JsonPatchError(`path ${path} does not exist`)
        parent.splice(Number(key), 1)
      } else {
        if (!(key in parent)) throw new JsonPatchError(`path ${path} does not exist`)
        delete parent[key]
      }
    }
    switch (op) {
      case 'add':
        add(clone(raw.value))
        break
      case 'remove':
        remove()
        break
      case 'replace':
        getAt(doc, path)
        if (parts.length === 0) doc = clone(raw.value)
        else {
          const { parent, key } = parentOf(doc, parts)
          if (Array.isArray(parent)) parent[Number(key)] = clone(raw.value)
          else parent[key] = clone(raw.value)
        }
        break
      case 'test':
        if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(raw.value)) throw new JsonPatchError(`test operation failed at ${path}`)
        break
      case 'move': {
        const value = getAt(doc, String(raw.from))
        const fromParts = pointer(String(raw.from))
        const { parent, key } = parentOf(doc, fromParts)
        if (Array.isArray(parent)) parent.splice(Number(key), 1)
        else delete parent[key]
        add(value)
        break
      }
      case 'copy':
        add(clone(getAt(doc, String(raw.from))))
        break
      default:
        throw new JsonPatchError(`unknown JSON patch operation ${JSON.stringify(op)}`)
    }
  }
  return doc
}
