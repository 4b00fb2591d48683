// One issue per failing scheduled test: opened on the first failure, commented on while it keeps
// failing, closed (with a comment) when the test passes again. The issue is found by its label
// and a hidden marker naming the test's key, so several tests (topologies, regions) in one
// repository each keep their own issue, and issues a person opened with the same label are left
// alone. Plan (pure) and apply (through a small API interface) are separate.

export type TestResult = 'success' | 'failure' | 'cancelled' | 'skipped'
export const RESULTS: readonly TestResult[] = ['success', 'failure', 'cancelled', 'skipped']

export interface IssueLite {
  number: number
  title: string
  body?: string | null
  state: string
  html_url?: string
  created_at?: string
  pull_request?: unknown
}

export interface IssueRequest {
  result: TestResult
  label: string
  key: string
  title: string
  /** Markdown with the run's findings (verdicts, measured times). */
  details: string
  runUrl: string
  /** For the text only, e.g. "2025-01-31 06:17 UTC". */
  when: string
}

export type IssuePlan =
  | { kind: 'open'; title: string; body: string; labels: string[] }
  | { kind: 'comment'; number: number; body: string }
  | { kind: 'close'; number: number; body: string }
  | { kind: 'none'; number?: number; reason: string }

export const marker = (key: string): string => `<!-- mr-actions:failover-issue key=${key} -->`

/** The open issues (not pull requests) that belong to this key, oldest first. */
export function ownIssues(issues: IssueLite[], key: string): IssueLite[] {
  const m = marker(key)
  return issues
    .filter((i) => i.state === 'open' && !i.pull_request && (i.body ?? '').includes(m))
    .sort((a, b) => a.number - b.number)
}

export function planIssue(req: IssueRequest, openWithLabel: IssueLite[]): IssuePlan {
  const own = ownIssues(openWithLabel, req.key)
  const current = own[0]
  const details = req.details.trim() ? `\n\n${req.details.trim()}` : ''
  switch (req.result) {
    case 'failure':
      if (!current) {
        return {
          kind: 'open',
          title: req.title,
          labels: [req.label],
          body:
            `${marker(req.key)}\nThe scheduled failover test \`${req.key}\` failed at ${req.when}: [run](${req.runUrl}).` +
            `${details}\n\nThis issue is updated while the test keeps failing and closed automatically when it passes again.`
        }
      }
      return { kind: 'comment', number: current.number, body: `Still failing at ${req.when}: [run](${req.runUrl}).${details}` }
    case 'success':
      if (!current) return { kind: 'none', reason: 'the test passed and no issue is open' }
      return { kind: 'close', number: current.number, body: `Passing again at ${req.when}: [run](${req.runUrl}). Closing.${details}` }
    default:
      return {
        kind: 'none',
        number: current?.number,
        reason: `the test was ${req.result}: no verdict, the issue is left as it is`
      }
  }
}

/** The few GitHub calls this needs; implemented over @actions/github's octokit in main.ts. */
export interface IssueApi {
  listOpenWithLabel(label: string): Promise<IssueLite[]>
  create(title: string, body: string, labels: string[]): Promise<IssueLite>
  comment(number: number, body: string): Promise<void>
  close(number: number): Promise<void>
}

export interface Applied {
  action: 'opened' | 'commented' | 'closed' | 'none'
  number?: number
  url?: string
  plan: IssuePlan
}

export async function syncIssue(api: IssueApi, req: IssueRequest, dryRun = false): Promise<Applied> {
  const open = await api.listOpenWithLabel(req.label)
  const plan = planIssue(req, open)
  const byNumber = (n: number): IssueLite | undefined => open.find((i) => i.number === n)
  if (dryRun) return { action: 'none', number: 'number' in plan ? plan.number : undefined, plan }
  switch (plan.kind) {
    case 'open': {
      const made = await api.create(plan.title, plan.body, plan.labels)
      return { action: 'opened', number: made.number, url: made.html_url, plan }
    }
    case 'comment':
      await api.comment(plan.number, plan.body)
      return { action: 'commented', number: plan.number, url: byNumber(plan.number)?.html_url, plan }
    case 'close':
      await api.comment(plan.number, plan.body)
      await api.close(plan.number)
      return { action: 'closed', number: plan.number, url: byNumber(plan.number)?.html_url, plan }
    default:
      return { action: 'none', number: plan.number, url: plan.number ? byNumber(plan.number)?.html_url : undefined, plan }
  }
}
