// Internal action of the failover-test workflow (not one of the five public actions): keeps one
// GitHub issue in step with the scheduled failover test. See issue.ts for the rules.
import * as github from '@actions/github'
import { runAction } from '../../core/entry.ts'
import { InputError } from '../../core/errors.ts'
import { registerSecret } from '../../core/secrets.ts'
import { type IssueApi, type IssueLite, RESULTS, syncIssue } from './issue.ts'

export async function run(): Promise<void> {
  await runAction('failover-issue', async ({ inputs, report }) => {
    const result = inputs.choice('result', RESULTS, { required: true })
    const label = inputs.requiredString('label', { pattern: /^[^,\n]{1,50}$/, accepted: 'a label name of 1-50 characters without commas' })
    const key = inputs.requiredString('key', { pattern: /^[A-Za-z0-9._/-]{1,100}$/, accepted: 'letters, digits, . _ / - (up to 100)' })
    const title = inputs.requiredString('title')
    const details = inputs.string('details') ?? ''
    const token = inputs.requiredString('github-token')
    registerSecret(token)
    const dryRun = inputs.bool('dry-run')
    const server = process.env.GITHUB_SERVER_URL || 'https://github.com'
    const repoFull = process.env.GITHUB_REPOSITORY ?? ''
    const defaultRunUrl = `${server}/${repoFull}/actions/runs/${process.env.GITHUB_RUN_ID ?? ''}`
    const runUrl = inputs.string('run-url', { default: defaultRunUrl }) ?? defaultRunUrl
    if (!/^[^/\s]+\/[^/\s]+$/.test(repoFull)) {
      inputs.fail(new InputError('GITHUB_REPOSITORY', `is '${repoFull}'`, 'owner/repo (set by the runner)'))
    }
    inputs.done()

    const [owner, repo] = repoFull.split('/')
    const octokit = github.getOctokit(token)
    const api: IssueApi = {
      async listOpenWithLabel(l) {
        const all = await octokit.paginate(octokit.rest.issues.listForRepo, { owner, repo, labels: l, state: 'open', per_page: 100 })
        return all as IssueLite[]
      },
      async create(t, body, labels) {
        const r = await octokit.rest.issues.create({ owner, repo, title: t, body, labels })
        return r.data as IssueLite
      },
      async comment(number, body) {
        await octokit.rest.issues.createComment({ owner, repo, issue_number: number, body })
      },
      async close(number) {
        await octokit.rest.issues.update({ owner, repo, issue_number: number, state: 'closed', state_reason: 'completed' })
      }
    }
    const when = new Date().toISOString().replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC')
    const done = await syncIssue(api, { result: result!, label, key, title, details, runUrl, when }, dryRun)
    const what = {
      opened: `opened issue #${done.number}`,
      commented: `commented on issue #${done.number} (still failing)`,
      closed: `closed issue #${done.number} (passing again)`,
      none: done.plan.kind === 'none' ? `no change: ${done.plan.reason}` : `dry-run: would ${done.plan.kind}${'number' in done.plan ? ` issue #${done.plan.number}` : ' an issue'}`
    }[done.action]
    report.note(`Test \`${key}\` result **${result}**: ${what}${done.url ? ` (${done.url})` : ''}.`)
    if (dryRun || done.action === 'none') report.status = 'unchanged'
    report.output('issue-action', done.action)
    report.output('issue-number', done.number ?? '')
    report.output('issue-url', done.url ?? '')
  })
}
