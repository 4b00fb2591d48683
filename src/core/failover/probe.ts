// Steady-rate probing through the ingress: one request at a time, started every `intervalMs`
// (the next one starts at once when a request took longer), each classified to a region or an
// error kind and kept in one log for the timing analysis.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { classify, type ClassifyRule } from './classify.ts'
import type { Probe, ProbeKind } from './timing.ts'

export interface ProberOptions {
  url: string
  rules: Record<string, ClassifyRule>
  intervalMs: number
  timeoutMs: number
}

const MAX_BODY = 64 * 1024

export class Prober {
  readonly log: Probe[] = []
  readonly o: ProberOptions
  private readonly agent: HttpAgent
  private stopped = false
  private wake?: () => void

  constructor(o: ProberOptions) {
    this.o = o
    const https = o.url.startsWith('https:')
    this.agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: 1 }) : new HttpAgent({ keepAlive: true, maxSockets: 1 })
  }

  /** Ends any running loop at the next probe boundary (cancel). */
  stop(): void {
    this.stopped = true
    this.wake?.()
  }

  get isStopped(): boolean {
    return this.stopped
  }

  close(): void {
    this.agent.destroy()
  }

  /** One request; never throws. */
  probe(phase: string): Promise<Probe> {
    const t = Date.now()
    const seq = this.log.length
    return new Promise<Probe>((resolve) => {
      let done = false
      const finish = (kind: ProbeKind, extra: Partial<Probe> = {}): void => {
        if (done) return
        done = true
        clearTimeout(timer)
        const p: Probe = { seq, t, ms: Date.now() - t, kind, phase, ...extra }
        this.log.push(p)
        resolve(p)
      }
      const req = (this.o.url.startsWith('https:') ? httpsRequest : httpRequest)(
        this.o.url,
        { method: 'GET', agent: this.agent, headers: { 'user-agent': 'mr-actions/verify-failover' } },
        (res: IncomingMessage) => {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (d: string) => {
            if (body.length < MAX_BODY) body += d
          })
          res.on('error', () => finish('reset'))
          res.on('end', () => {
            const status = res.statusCode ?? 0
            if (status >= 500) return finish('http-5xx', { status, detail: body.slice(0, 120) })
            if (status >= 400) return finish('http-4xx', { status })
            if (status < 200 || status >= 300) return finish('http-other', { status })
            const c = classify(this.o.rules, { status, headers: res.headers, body })
            if ('region' in c) finish('ok', { status, region: c.region })
            else if ('ambiguous' in c) finish('ambiguous', { status, detail: c.ambiguous.join(',') })
            else finish('unclassified', { status, detail: body.slice(0, 120) })
          })
        }
      )
      const timer = setTimeout(() => {
        finish('timeout')
        req.destroy()
      }, this.o.timeoutMs)
      req.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? ''
        finish(code === 'ECONNREFUSED' ? 'refused' : code === 'ECONNRESET' || code === 'EPIPE' ? 'reset' : 'error', { detail: code || err.message })
      })
      req.end()
    })
  }

  /**
   * Probes at the steady rate until `until(probe)` returns true, `maxCount` probes or `maxMs`
   * passed, or stop() was called. Returns the probes of this run.
   */
  async run(phase: string, o: { until?: (p: Probe) => boolean; maxCount?: number; maxMs?: number }): Promise<Probe[]> {
    const start = Date.now()
    const out: Probe[] = []
    let slot = start
    while (!this.stopped) {
      if (o.maxCount !== undefined && out.length >= o.maxCount) break
      if (o.maxMs !== undefined && Date.now() - start >= o.maxMs) break
      const wait = slot - Date.now()
      if (wait > 0) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, wait)
          this.wake = () => {
            clearTimeout(t)
            r()
          }
        })
        if (this.stopped) break
        if (o.maxMs !== undefined && Date.now() - start >= o.maxMs) break
      }
      const p = await this.probe(phase)
      // The next slot keeps the rate; after a slow request it starts at once, without a burst.
      slot = Math.max(slot + this.o.intervalMs, Date.now())
      out.push(p)
      if (o.until?.(p)) break
    }
    return out
  }
}
