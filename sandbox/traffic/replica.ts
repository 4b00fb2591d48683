// One replica of a `helloworld`-style regional service: an HTTP server on 127.0.0.1 (ephemeral
// port) that answers with its region, version and instance, as JSON and in headers. A fault, as
// Chaos Mesh's HTTPChaos injects it into the pod, makes it fail while it stays up (the path for
// outlier detection): `abort` resets the connection, `code` replaces the response status.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReplicaFault {
  abort?: boolean
  code?: number
  /** the HTTPChaos object that injected it (namespace/name) */
  by: string
}

export interface ReplicaOptions {
  region: string
  version: string
  instance: string
}

export class Replica {
  readonly region: string
  readonly version: string
  readonly instance: string
  fault?: ReplicaFault
  served = 0
  failed = 0
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
      const headers = { 'content-type': 'application/json', 'x-region': this.region, 'x-version': this.version, 'x-instance': this.instance }
      const f = this.fault
      if (f) {
        this.failed++
        if (f.abort) {
          req.socket.destroy()
          return
        }
        res.writeHead(f.code ?? 503, headers).end(JSON.stringify({ error: 'fault', region: this.region, instance: this.instance }) + '\n')
        return
      }
      this.served++
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
