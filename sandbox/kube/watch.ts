// Watch (`?watch=true`): replays the events after the client's resourceVersion (or the current
// objects), then streams each change as one JSON line until the timeout or the client goes.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http } from './http.ts'
import { wantsTable } from './http.ts'
import { matcher, table } from './query.ts'
import type { ResourceType } from './resources.ts'
import type { Watcher } from './store.ts'
import type { KubeObject } from './types.ts'

export function watch(h: Http, req: IncomingMessage, res: ServerResponse, t: ResourceType, ns: string, q: URLSearchParams): void {
  const match = matcher(q)
  const asTable = wantsTable(req)
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' })
  res.flushHeaders() // a client waits for the headers before it reads events
  h.openResponses.add(res)
  const send = (type: string, o: KubeObject): void => {
    const object = asTable ? table(h.store, t, [o], req, q) : o
    res.write(JSON.stringify({ type, object }) + '\n')
  }
  const rv = q.get('resourceVersion') ?? ''
  if (rv === '' || rv === '0') {
    for (const o of h.store.all(t, ns || undefined)) if (match(o)) send('ADDED', o)
  } else {
    for (const e of h.store.events) {
      if (e.rv <= Number(rv) || e.t !== t) continue
      if (ns && e.obj.metadata.namespace !== ns) continue
      if (match(e.obj)) send(e.type, e.obj)
    }
  }
  const watcher: Watcher = { t, namespace: ns, match, send }
  h.store.watchers.add(watcher)
  const timeout = Number(q.get('timeoutSeconds') ?? 1800)
  const timer = setTimeout(() => res.end(), Math.max(1, timeout) * 1000)
  const done = (): void => {
    clearTimeout(timer)
    h.store.watchers.delete(watcher)
    h.openResponses.delete(res)
  }
  res.on('close', done)
  req.on('close', done)
}
