// pods/log: a pod's log source (text, file, function) shaped by tailLines/limitBytes, and followed
// (`kubectl logs -f`) by polling the file.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ApiError, notFound, type Obj } from './errors.ts'
import type { Http } from './http.ts'
import type { AccessLogEntry, LogOptions } from './types.ts'

export async function logs(h: Http, req: IncomingMessage, res: ServerResponse, ns: string, name: string, q: URLSearchParams, entry: AccessLogEntry): Promise<void> {
  const t = h.store.typeFor('pods')
  const pod = h.store.stored(t, ns, name) as Obj | undefined
  if (!pod) throw notFound(t, name)
  const container = podContainer(pod, q.get('container'))
  const num = (k: string): number | undefined => (q.get(k) !== null && q.get(k) !== '' ? Number(q.get(k)) : undefined)
  const opts: LogOptions = {
    container,
    tailLines: num('tailLines'),
    sinceSeconds: num('sinceSeconds'),
    limitBytes: num('limitBytes'),
    timestamps: q.get('timestamps') === 'true',
    previous: q.get('previous') === 'true',
    follow: q.get('follow') === 'true'
  }
  const source = h.store.pods.get(h.store.key(t, ns, name))?.logs
  let text: Buffer
  let file: string | undefined
  if (source === undefined) text = Buffer.alloc(0)
  else if (typeof source === 'string') text = Buffer.from(source)
  else if (typeof source === 'function') text = Buffer.from(await source(opts))
  else {
    file = source.file
    text = existsSync(file) ? readFileSync(file) : Buffer.alloc(0)
  }
  let offset = text.length
  text = shapeLog(text, opts)
  entry.status = 200
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', ...(opts.follow ? { 'Transfer-Encoding': 'chunked' } : {}) })
  if (!opts.follow || !file) {
    res.end(text)
    return
  }
  res.flushHeaders()
  if (text.length) res.write(text)
  h.openResponses.add(res)
  const f = file
  const timer = setInterval(() => {
    try {
      const size = existsSync(f) ? statSync(f).size : 0
      if (size < offset) offset = 0 // rotated
      if (size > offset) {
        const fd = openSync(f, 'r')
        const buf = Buffer.alloc(size - offset)
        readSync(fd, buf, 0, buf.length, offset)
        closeSync(fd)
        offset = size
        res.write(buf)
      }
    } catch {
      /* the file may come and go */
    }
  }, 200)
  const done = (): void => {
    clearInterval(timer)
    h.openResponses.delete(res)
  }
  res.on('close', done)
}

export function podContainer(pod: Obj, wanted: string | null): string {
  const names = (pod.spec.containers as Obj[]).map((c) => String(c.name))
  if (wanted) {
    if (!names.includes(wanted)) throw new ApiError(400, 'BadRequest', `container ${wanted} is not valid for pod ${pod.metadata.name}`)
    return wanted
  }
  if (names.length === 1) return names[0]
  throw new ApiError(400, 'BadRequest', `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${names.join(' ')}]`)
}

// ---------------------------------------------------------------- exec (SPDY/3.1)

function shapeLog(text: Buffer, opts: LogOptions): Buffer {
  let out = text
  if (opts.tailLines !== undefined && opts.tailLines >= 0) {
    const s = out.toString()
    const lines = s.split('\n')
    const trailing = s.endsWith('\n')
    if (trailing) lines.pop()
    const kept = opts.tailLines === 0 ? [] : lines.slice(-opts.tailLines)
    out = Buffer.from(kept.length ? kept.join('\n') + (trailing ? '\n' : '') : '')
  }
  if (opts.limitBytes !== undefined && opts.limitBytes >= 0) out = out.subarray(0, opts.limitBytes)
  return out
}
