// List and watch queries: label/field selectors as one predicate, and the server-side Table output
// kubectl asks for (`application/json;as=Table`).
import type { IncomingMessage } from 'node:http'
import { ApiError, clone, type Obj } from './errors.ts'
import { parseFieldSelector, parseLabelSelector, type ResourceType } from './resources.ts'
import type { Store } from './store.ts'
import type { KubeObject } from './types.ts'

/** The label and field selectors of a list or watch request as one predicate. */
export function matcher(q: URLSearchParams): (o: KubeObject) => boolean {
  try {
    const labelMatch = parseLabelSelector(q.get('labelSelector') ?? '')
    const fieldMatch = parseFieldSelector(q.get('fieldSelector') ?? '')
    return (o) => labelMatch(o.metadata.labels ?? {}) && fieldMatch(o)
  } catch (err) {
    throw new ApiError(400, 'BadRequest', (err as Error).message)
  }
}

export function select(s: Store, t: ResourceType, ns: string, q: URLSearchParams): KubeObject[] {
  return s.all(t, ns || undefined).filter(matcher(q))
}

export function table(s: Store, t: ResourceType, items: KubeObject[], req: IncomingMessage, q: URLSearchParams): Obj {
  const include = q.get('includeObject') ?? 'Metadata'
  const v1beta1 = !/as=Table;v=v1;/.test(String(req.headers.accept ?? '') + ';') && /v=v1beta1/.test(String(req.headers.accept ?? ''))
  return {
    kind: 'Table',
    apiVersion: v1beta1 ? 'meta.k8s.io/v1beta1' : 'meta.k8s.io/v1',
    metadata: { resourceVersion: String(s.rv) },
    columnDefinitions: t.columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: '', priority: c.priority ?? 0 })),
    rows: items.map((o) => ({
      cells: t.columns.map((c) => c.cell(o)),
      ...(include === 'None'
        ? {}
        : { object: include === 'Object' ? clone(o) : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: clone(o.metadata) } })
    }))
  }
}
