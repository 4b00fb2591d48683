// pods/exec over SPDY/3.1 (v4.channel.k8s.io, as kubectl speaks it): the upgrade, the stream
// set-up, the pod's exec handler, and the exit status on the error stream. Also the same handler
// called directly (no HTTP) for the world's own use.
import type { IncomingMessage } from 'node:http'
import { PassThrough, Writable, type Duplex } from 'node:stream'
import { ApiError, statusBody, type Obj } from './errors.ts'
import { logEntry, type Http } from './http.ts'
import { podContainer } from './logs.ts'
import { checkAccess } from './rest.ts'
import { SpdySession, type SpdyStream } from './spdy.ts'
import type { Store } from './store.ts'
import type { ExecHandler, ExecRequest } from './types.ts'

export function upgrade(h: Http, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  h.sockets.add(socket)
  socket.on('close', () => h.sockets.delete(socket))
  socket.on('error', () => socket.destroy())
  const url = new URL(req.url ?? '/', 'https://sandbox')
  const entry = logEntry(req, url)
  entry.verb = req.method === 'POST' ? 'create' : 'get'
  h.accessLog.push(entry)
  const refuse = (code: number, reason: string, message: string, details?: Obj): void => {
    entry.status = code
    const body = JSON.stringify(statusBody(code, reason, message, details))
    const text = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[code as 400] ?? 'Error'
    socket.end(`HTTP/1.1 ${code} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
  const who = h.authenticate(req)
  if ('error' in who) {
    entry.authError = who.error
    return refuse(401, 'Unauthorized', 'Unauthorized')
  }
  entry.user = who.user.name
  entry.credential = who.credential
  const m = url.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)$/)
  if (!m) return refuse(404, 'NotFound', 'the server could not find the requested resource')
  const [, ns, name, sub] = m.map(decodeURIComponent)
  Object.assign(entry, { group: '', version: 'v1', resource: 'pods', subresource: sub, namespace: ns, name })
  try {
    checkAccess(h, who.user, { verb: entry.verb, group: '', resource: 'pods', subresource: sub, namespace: ns, name })
  } catch (e) {
    if (e instanceof ApiError) return refuse(e.code, e.reason, e.message, e.details)
    throw e
  }
  if (sub !== 'exec') return refuse(400, 'BadRequest', `pods/${sub} is not supported by the sandbox`)
  const upgradeTo = String(req.headers.upgrade ?? '').toLowerCase()
  if (upgradeTo !== 'spdy/3.1') {
    // e.g. kubectl >= 1.30 tries websocket (v5.channel.k8s.io) first and falls back to SPDY on a failed upgrade
    return refuse(400, 'BadRequest', `unable to upgrade connection: the sandbox speaks SPDY/3.1 only, not ${upgradeTo || 'nothing'}`)
  }
  const t = h.store.typeFor('pods')
  const pod = h.store.stored(t, ns, name) as Obj | undefined
  if (!pod) return refuse(404, 'NotFound', `pods "${name}" not found`)
  const q = url.searchParams
  let container: string
  try {
    container = podContainer(pod, q.get('container'))
  } catch (err) {
    return refuse(400, 'BadRequest', (err as Error).message)
  }
  if (pod.status?.phase !== 'Running') return refuse(400, 'BadRequest', `unable to upgrade connection: container not found ("${container}")`)
  const offered = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((s) => s.trim())
  const protocol = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io'].find((p) => offered.includes(p))
  if (!protocol) return refuse(400, 'BadRequest', `unable to upgrade connection: no supported stream protocol in ${JSON.stringify(offered)}`)
  const flag = (k: string): boolean => q.get(k) === 'true' || q.get(k) === '1'
  const tty = flag('tty')
  const wants = { error: true, stdin: flag('stdin'), stdout: flag('stdout'), stderr: flag('stderr') && !tty, resize: tty && protocol !== 'v2.channel.k8s.io' }
  const argv = q.getAll('command')
  entry.status = 101
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\nDate: ${new Date().toUTCString()}\r\n\r\n`)
  const session = new SpdySession(socket, head)
  h.sessions.add(session)
  session.on('protocolError', (err: Error) => h.store.opts.debug?.(`SPDY protocol error: ${err.message}`))
  const streams: Partial<Record<string, SpdyStream>> = {}
  const stdin = wants.stdin ? new PassThrough() : null
  const abort = new AbortController()
  let started = false
  const startTimer = setTimeout(() => {
    if (!started) session.destroy()
  }, 30000)
  session.on('close', () => {
    clearTimeout(startTimer)
    h.sessions.delete(session)
    abort.abort()
    if (stdin && !stdin.writableEnded) stdin.end()
  })
  session.on('goaway', () => {
    if (!started || finished) session.close()
  })
  let finished = false
  session.on('stream', (s: SpdyStream) => {
    const type = s.header('streamtype') ?? ''
    streams[type] = s
    if (type === 'stdin' && stdin) {
      s.on('data', (d: Buffer) => {
        // back-pressure: stop reading the connection until the command takes its input
        if (!stdin.write(d) && !stdin.writableEnded) {
          socket.pause()
          stdin.once('drain', () => socket.resume())
        }
      })
      s.on('end', () => {
        if (!stdin.writableEnded) stdin.end()
      })
    }
    const ready = (Object.keys(wants) as Array<keyof typeof wants>).every((k) => !wants[k] || streams[k])
    if (!ready || started) return
    started = true
    clearTimeout(startTimer)
    const rt = h.store.pods.get(h.store.key(t, ns, name))
    const stdout = streams.stdout ? streamWriter(streams.stdout) : discard()
    const stderr = streams.stderr ? streamWriter(streams.stderr) : tty ? stdout : discard()
    const onClusterClose = (): void => abort.abort()
    h.store.abort.signal.addEventListener('abort', onClusterClose, { once: true })
    void runExec(rt?.exec, { namespace: ns, pod: name, container, argv, stdin, stdout, stderr, tty, signal: abort.signal })
      .then(async (code) => {
        await Promise.all([endWriter(stdout), endWriter(stderr)])
        const errStream = streams.error!
        if (protocol === 'v4.channel.k8s.io') {
          const status =
            code === 0
              ? { metadata: {}, status: 'Success' }
              : {
                  metadata: {},
                  status: 'Failure',
                  message: `command terminated with non-zero exit code: error executing command [${argv.join(' ')}], exit code ${code}`,
                  reason: 'NonZeroExitCode',
                  details: { causes: [{ reason: 'ExitCode', message: String(code) }] }
                }
          errStream.write(Buffer.from(JSON.stringify(status)))
        } else if (code !== 0) {
          errStream.write(Buffer.from(`command terminated with non-zero exit code: error executing command [${argv.join(' ')}], exit code ${code}`))
        }
        errStream.end()
        finished = true
        // kubectl closes the connection when it has read everything; do it ourselves if it does not
        setTimeout(() => session.destroy(), 5000).unref()
      })
      .finally(() => h.store.abort.signal.removeEventListener('abort', onClusterClose))
  })
}

export async function directExec(s: Store, namespace: string, pod: string, argv: string[], opts: { container?: string; stdin?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const t = s.typeFor('pods')
  const obj = s.stored(t, namespace, pod) as Obj | undefined
  const rt = s.pods.get(s.key(t, namespace, pod))
  if (!obj || !rt) throw new Error(`sandbox kube: no pod ${namespace}/${pod} in ${s.name}`)
  const out: Buffer[] = []
  const err: Buffer[] = []
  const sink = (into: Buffer[]): Writable => new Writable({ write: (c: Buffer, _e, cb) => (into.push(Buffer.from(c)), cb()) })
  let stdin: PassThrough | null = null
  if (opts.stdin !== undefined) {
    stdin = new PassThrough()
    stdin.end(opts.stdin)
  }
  const code = await runExec(rt.exec, {
    namespace,
    pod,
    container: opts.container ?? obj.spec.containers[0].name,
    argv,
    stdin,
    stdout: sink(out),
    stderr: sink(err),
    tty: false,
    signal: s.abort.signal
  })
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }
}

// ---------------------------------------------------------------- HTTP

async function runExec(handler: ExecHandler | undefined, req: ExecRequest): Promise<number> {
  if (!handler) {
    req.stderr.write(`sandbox: pod ${req.namespace}/${req.pod} has no exec handler\n`)
    return 126
  }
  try {
    return await handler(req)
  } catch (err) {
    req.stderr.write(`sandbox: exec handler failed: ${(err as Error).message}\n`)
    return 126
  }
}

function streamWriter(s: SpdyStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      s.write(Buffer.from(chunk), () => cb())
    },
    final(cb) {
      s.end(() => cb())
    }
  })
}

function discard(): Writable {
  return new Writable({ write: (_c, _e, cb) => cb() })
}

function endWriter(w: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (w.writableFinished) return resolve()
    w.once('finish', () => resolve())
    w.once('error', () => resolve())
    if (!w.writableEnded) w.end()
  })
}
