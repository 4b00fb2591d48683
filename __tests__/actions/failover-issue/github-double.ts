// A small GitHub REST double for the issues endpoints the failover-issue action uses, on
// loopback with an ephemeral port. Speaks what octokit expects: JSON bodies, Link headers for
// pagination (2 issues per page, so paging is exercised), 401 without the right token.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface DoubleIssue {
  number: number
  title: string
  body: string
  state: 'open' | 'closed'
  state_reason?: string | null
  labels: string[]
  comments: string[]
  pull_request?: object
}

export interface Request {
  method: string
  path: string
  auth?: string
  body?: unknown
}

export class GitHubDouble {
  readonly issues: DoubleIssue[] = []
  readonly log: Request[] = []
  readonly token: string
  readonly repo: string
  private server?: Server
  url = ''

  constructor(token: string, repo = 'example/platform') {
    this.token = token
    this.repo = repo
  }

  get writes(): Request[] {
    return this.log.filter((r) => r.method !== 'GET')
  }

  seed(i: Partial<DoubleIssue> & { title: string }): DoubleIssue {
    const issue: DoubleIssue = { number: this.issues.length + 1, body: '', state: 'open', labels: [], comments: [], ...i }
    this.issues.push(issue)
    return issue
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(
        ([status, body, headers]) => {
          res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
          res.end(body === undefined ? '' : JSON.stringify(body))
        },
        (e: Error) => {
          res.writeHead(500, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ message: e.message }))
        }
      )
    })
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r())
  }

  private view(i: DoubleIssue) {
    return {
      number: i.number,
      title: i.title,
      body: i.body,
      state: i.state,
      state_reason: i.state_reason ?? null,
      labels: i.labels.map((name) => ({ name })),
      html_url: `https://github.example/${this.repo}/issues/${i.number}`,
      ...(i.pull_request ? { pull_request: i.pull_request } : {})
    }
  }

  private async handle(req: IncomingMessage): Promise<[number, unknown, Record<string, string>?]> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    const body = text ? JSON.parse(text) : undefined
    const url = new URL(req.url ?? '/', this.url)
    this.log.push({ method: req.method ?? '', path: url.pathname + url.search, auth: req.headers.authorization, body })
    if (req.headers.authorization !== `token ${this.token}` && req.headers.authorization !== `Bearer ${this.token}`) {
      return [401, { message: 'Bad credentials' }]
    }
    const base = `/repos/${this.repo}/issues`
    if (req.method === 'GET' && url.pathname === base) {
      const labels = (url.searchParams.get('labels') ?? '').split(',').filter(Boolean)
      const state = url.searchParams.get('state') ?? 'open'
      const all = this.issues.filter((i) => (state === 'all' || i.state === state) && labels.every((l) => i.labels.includes(l)))
      const per = 2
      const page = Number(url.searchParams.get('page') ?? '1')
      const slice = all.slice((page - 1) * per, page * per)
      const headers: Record<string, string> = {}
      if (page * per < all.length) {
        const next = new URL(url)
        next.searchParams.set('page', String(page + 1))
        headers.link = `<${next.toString()}>; rel="next"`
      }
      return [200, slice.map((i) => this.view(i)), headers]
    }
    if (req.method === 'POST' && url.pathname === base) {
      const b = body as { title: string; body: string; labels: string[] }
      const i = this.seed({ title: b.title, body: b.body, labels: b.labels ?? [] })
      return [201, this.view(i)]
    }
    const one = new RegExp(`^${base}/(\\d+)(/comments)?$`).exec(url.pathname)
    const issue = one ? this.issues.find((i) => i.number === Number(one[1])) : undefined
    if (one && !issue) return [404, { message: 'Not Found' }]
    if (one && issue && req.method === 'POST' && one[2]) {
      issue.comments.push((body as { body: string }).body)
      return [201, { id: issue.comments.length, body: (body as { body: string }).body }]
    }
    if (one && issue && req.method === 'PATCH' && !one[2]) {
      const b = body as { state?: 'open' | 'closed'; state_reason?: string }
      if (b.state) issue.state = b.state
      if (b.state_reason) issue.state_reason = b.state_reason
      return [200, this.view(issue)]
    }
    return [404, { message: `no route ${req.method} ${url.pathname}` }]
  }
}
