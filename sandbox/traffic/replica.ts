// One replica of a `helloworld`-style regional service: an HTTP server on 127.0.0.1 (ephemeral
// port) that answers with its region, version and instance, as JSON and in headers. It can be
// switched to "failing" (stays up, answers 503), the path for outlier detection; a request with
// header `x-mr-fail: <region>|all` fails too (the header fault mode).
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReplicaOptions {
  region: string
  version: string
  instance: string
}

export class Replica {
  readonly region: string
  readonly version: string
  readonly instance: string
  failing = false
  served = 0
  private server?: Server
  port = 0

  constructor(o: ReplicaOptions) {
    this.region = o.region
    this.version = o.version
    this.instance = o.instance
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      req.resume()
      const hdr = req.headers['x-mr-fail']
      const failByHeader = typeof hdr === 'string' && (hdr === 'all' || hdr.split(',').map((s) => s.trim()).includes(this.region))
      if (req.url?.startsWith('/healthz/ready')) {
        res.writeHead(this.failing ? 503 : 200, { 'content-type': 'text/plain' }).end(this.failing ? 'failing\n' : 'ready\n')
        return
      }
      this.served++
      const headers = { 'content-type': 'application/json', 'x-region': this.region, 'x-version': this.version, 'x-instance': this.instance }
      if (this.failing || failByHeader) {
        res.writeHead(503, headers).end(JSON.stringify({ error: 'failing', region: this.region, instance: this.instance }) + '\n')
        return
      }
      const body = { service: 'helloworld', message: `Hello version: ${this.version}, instance: ${this.instance}`, region: this.region, version: this.version, instance: this.instance }
      res.writeHead(200, headers).end(JSON.stringify(body) + '\n')
    })
    server.keepAliveTimeout = 2000
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    this.port = (server.address() as AddressInfo).port
    this.server = server
  }

  /** Stops listening and drops open connections (a terminated pod). */
  async stop(): Promise<void> {
    const s = this.server
    if (!s) return
    this.server = undefined
    await new Promise<void>((resolve) => {
      s.close(() => resolve())
      s.closeAllConnections()
    })
  }
}
