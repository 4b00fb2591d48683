// failover-issue: the plan (pure) and the bundled action against a GitHub REST double, run as the
// runner runs it. One issue per test key: opened on the first failure, commented while failing,
// closed when passing again; cancelled/skipped runs and other people's issues are left alone.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runAction as runBundle } from '../../../sandbox/runner.ts'
import { marker, planIssue, type IssueLite, type IssueRequest } from '../../../src/actions/failover-issue/issue.ts'
import { ensureBundle } from '../../helpers/bundle.ts'
import { GitHubDouble } from './github-double.ts'

const req = (over: Partial<IssueRequest> = {}): IssueRequest => ({
  result: 'failure',
  label: 'failover-test',
  key: 'nightly',
  title: 'Scheduled failover test is failing',
  details: '| verdict | fail |',
  runUrl: 'https://github.example/o/r/actions/runs/7',
  when: '2026-01-01 06:17 UTC',
  ...over
})
// The runner names its job folder after the action; ours has a '/' in its name, so give it one.
const runAction: typeof runBundle = (name, inputs, o = {}) => runBundle(name, inputs, { jobDir: mkdtempSync(join(tmpdir(), 'mr-job-failover-issue-')), ...o })
const issue = (number: number, body: string, over: Partial<IssueLite> = {}): IssueLite => ({ number, title: 't', body, state: 'open', ...over })

describe('planIssue', () => {
  test('first failure opens an issue with the label and the hidden marker', () => {
    const p = planIssue(req(), [])
    expect(p).toMatchObject({ kind: 'open', labels: ['failover-test'], title: 'Scheduled failover test is failing' })
    if (p.kind !== 'open') throw new Error()
    expect(p.body).toContain(marker('nightly'))
    expect(p.body).toContain('https://github.example/o/r/actions/runs/7')
    expect(p.body).toContain('| verdict | fail |')
  })
  test('a failure while an issue is open comments on the oldest own issue', () => {
    const open = [issue(9, marker('nightly')), issue(4, marker('nightly')), issue(2, 'opened by a person')]
    expect(planIssue(req(), open)).toMatchObject({ kind: 'comment', number: 4 })
  })
  test('a pass closes the open issue; a pass with none open does nothing', () => {
    expect(planIssue(req({ result: 'success' }), [issue(4, marker('nightly'))])).toMatchObject({ kind: 'close', number: 4 })
    expect(planIssue(req({ result: 'success' }), [issue(2, 'opened by a person')])).toMatchObject({ kind: 'none' })
  })
  test('cancelled and skipped runs change nothing', () => {
    for (const result of ['cancelled', 'skipped'] as const) {
      expect(planIssue(req({ result }), [issue(4, marker('nightly'))])).toMatchObject({ kind: 'none', number: 4 })
    }
  })
  test('other keys, closed issues and pull requests are not ours', () => {
    const open = [issue(1, marker('other')), issue(2, marker('nightly'), { state: 'closed' }), issue(3, marker('nightly'), { pull_request: {} })]
    expect(planIssue(req(), open)).toMatchObject({ kind: 'open' })
  })
})

describe('the bundled action against a GitHub API double', () => {
  const token = 'ghs_failoverIssueTestToken0123456789'
  const gh = new GitHubDouble(token)
  beforeAll(async () => {
    ensureBundle('failover-issue')
    await gh.start()
    // Someone else's issues with the same label: never touched. Three of them, so the listing pages.
    gh.seed({ title: 'flaky dashboard', body: 'opened by a person', labels: ['failover-test'] })
    gh.seed({ title: 'PR', body: marker('nightly'), labels: ['failover-test'], pull_request: {} })
    gh.seed({ title: 'older one', body: 'no marker', labels: ['failover-test'] })
  }, 120_000)
  afterAll(() => gh.stop())

  const run = (inputs: Record<string, string>) =>
    runAction('internal/failover-issue', { 'github-token': token, key: 'nightly', ...inputs }, { env: { GITHUB_API_URL: gh.url, GITHUB_SERVER_URL: 'https://github.example' } })
  const leaks: string[] = []
  const check = (r: { stdout: string; stderr: string; summary: string; outputs: Record<string, string> }) => {
    // The runner's own ::add-mask:: command is how the token gets masked; it never reaches the log.
    expect(r.stdout).toContain(`::add-mask::${token}`)
    const shown = r.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n')
    for (const text of [shown, r.stderr, r.summary, JSON.stringify(r.outputs)]) if (text.includes(token)) leaks.push(text)
  }

  test('a pass with nothing open: no writes', async () => {
    const r = await run({ result: 'success' })
    check(r)
    expect(r.code).toBe(0)
    expect(r.outputs['issue-action']).toBe('none')
    expect(gh.writes).toHaveLength(0)
    // the listing followed the Link header past the first page
    expect(gh.log.filter((l) => l.method === 'GET').length).toBeGreaterThanOrEqual(2)
  })

  let opened = 0
  test('the first failure opens one issue, labelled, with the run link and the details', async () => {
    const r = await run({ result: 'failure', details: '| verdict | fail |\n| --- | --- |' })
    check(r)
    expect(r.code).toBe(0)
    expect(r.outputs['issue-action']).toBe('opened')
    opened = Number(r.outputs['issue-number'])
    const i = gh.issues.find((x) => x.number === opened)!
    expect(i.labels).toEqual(['failover-test'])
    expect(i.title).toBe('Scheduled failover test is failing')
    expect(i.body).toContain(marker('nightly'))
    expect(i.body).toContain('https://github.example/example/platform/actions/runs/1')
    expect(i.body).toContain('| verdict | fail |')
    expect(r.summary).toContain(`opened issue #${opened}`)
  })

  test('a second failure comments on that issue and opens no other', async () => {
    const before = gh.issues.length
    const r = await run({ result: 'failure' })
    check(r)
    expect(r.outputs).toMatchObject({ 'issue-action': 'commented', 'issue-number': String(opened) })
    expect(gh.issues).toHaveLength(before)
    expect(gh.issues.find((x) => x.number === opened)!.comments).toEqual([expect.stringContaining('Still failing')])
  })

  test('a cancelled run changes nothing', async () => {
    const n = gh.writes.length
    const r = await run({ result: 'cancelled' })
    expect(r.code).toBe(0)
    expect(r.outputs['issue-action']).toBe('none')
    expect(gh.writes).toHaveLength(n)
  })

  test('a dry-run says what it would do and writes nothing', async () => {
    const n = gh.writes.length
    const r = await run({ result: 'success', 'dry-run': 'true' })
    expect(r.code).toBe(0)
    expect(r.summary).toContain(`would close issue #${opened}`)
    expect(gh.writes).toHaveLength(n)
  })

  test('a pass comments and closes it; the other issues with the label are untouched', async () => {
    const r = await run({ result: 'success' })
    check(r)
    expect(r.outputs).toMatchObject({ 'issue-action': 'closed', 'issue-number': String(opened) })
    const i = gh.issues.find((x) => x.number === opened)!
    expect(i.state).toBe('closed')
    expect(i.state_reason).toBe('completed')
    expect(i.comments.at(-1)).toContain('Passing again')
    for (const other of gh.issues.filter((x) => x.number !== opened)) {
      expect(other.state).toBe('open')
      expect(other.comments).toEqual([])
    }
  })

  test('the next failure opens a new issue; another key keeps its own', async () => {
    const a = await run({ result: 'failure' })
    const b = await run({ result: 'failure', key: 'westeurope' })
    expect(a.outputs['issue-action']).toBe('opened')
    expect(b.outputs['issue-action']).toBe('opened')
    expect(new Set([opened, Number(a.outputs['issue-number']), Number(b.outputs['issue-number'])]).size).toBe(3)
  })

  test('bad inputs fail before any request, naming the input', async () => {
    const n = gh.log.length
    const r = await run({ result: 'maybe', key: 'has space' })
    expect(r.code).not.toBe(0)
    expect(r.stdout).toMatch(/result/)
    expect(r.stdout).toMatch(/'maybe'/)
    expect(r.stdout).toMatch(/key/)
    expect(gh.log).toHaveLength(n)
  })

  test('a wrong token fails with GitHub\'s message and changes nothing', async () => {
    const n = gh.writes.length
    const r = await runAction('internal/failover-issue', { 'github-token': 'ghs_wrongTokenWrongToken', result: 'failure' }, { env: { GITHUB_API_URL: gh.url } })
    expect(r.code).not.toBe(0)
    expect(r.stdout).toMatch(/Bad credentials/)
    expect(gh.writes).toHaveLength(n)
  })

  test('the token appeared in no log, summary or output', () => {
    expect(leaks).toEqual([])
    // and it was sent to the API as the credential
    expect(gh.log.some((l) => l.auth?.includes(token))).toBe(true)
  })
})
