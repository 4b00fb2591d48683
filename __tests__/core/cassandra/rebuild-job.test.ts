// The pod-side job scripts of rebuild-dc, run by a real `sh` exactly as `kubectl exec ... sh -c`
// runs them in a pod (Nodetool.script wraps them with the credentials from stdin). `nodetool`
// here is a stand-in executable that records its argv and sleeps, so the job control (start,
// re-attach, exit status, password file lifetime) is checked without a JVM; the real nodetool
// runs in the sandbox integration test.
import { afterAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kubectl } from '../../../src/core/kube/kubectl.ts'
import { Nodetool } from '../../../src/core/cassandra/nodetool.ts'
import type { TargetNode } from '../../../src/core/cassandra/rebuild-plan.ts'
import { launchBody, parsePlanProbe, parseProbe, PLAN_PROBE_BODY, PROBE_BODY, probeOf } from '../../../src/core/cassandra/rebuild.ts'

const dir = mkdtempSync(join(tmpdir(), 'rebuild-job-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// Stand-in nodetool: `rebuild` sleeps $SLEEP seconds then exits $RC (or fails like Cassandra
// for dc-9); `netstats` prints an idle netstats. Its argv and its -pwf file are recorded.
const fake = join(dir, 'nodetool')
writeFileSync(
  fake,
  `#!/bin/sh
echo "$@" >> "${dir}/argv"
pwf=''; prev=''
for a in "$@"; do [ "$prev" = "-pwf" ] && pwf="$a"; prev="$a"; done
[ -n "$pwf" ] && cat "$pwf" > "${dir}/pwf-seen"
case " $* " in
  *" rebuild "*)
    case " $* " in *" dc-9 "*) echo "error: Unable to find sufficient sources for streaming range (1,2] in keyspace ks with RF=1." >&2; exit 2;; esac
    sleep "\${SLEEP:-0}"; echo "rebuilt"; exit "\${RC:-0}";;
  *" netstats "*) printf 'Mode: NORMAL\\nNot sending any streams.\\n';;
esac
`
)
chmodSync(fake, 0o755)

const nt = new Nodetool({ kube: new Kubectl(), namespace: 'x' }, { user: 'jmxuser', password: 'S3cret-pw-xyz' }, { bin: fake })

function sh(body: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const { script, stdin } = nt.script(body)
  return new Promise((resolve, reject) => {
    const child = execFile('sh', ['-c', script, 'sh', ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)
    )
    child.stdin!.end(stdin)
  })
}

const state = (name: string): string => join(dir, 'state', name)
const probe = async (s: string) => parseProbe(await sh(PROBE_BODY, [s, '0', 'idle']))
async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await f()
    if (ok(v) || Date.now() > end) return v
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('rebuild job in the pod', () => {
  it('starts in the background, is found running, re-attaches instead of starting twice, then records exit 0', async () => {
    const s = state('host-a')
    const out = await sh(launchBody(fake), [s, 'dc-1', '--', 'dc-1'], { SLEEP: '2' })
    expect(out).toMatch(/^@@started \d+$/m)
    const p1 = await probe(s)
    expect(p1.run).toEqual(expect.objectContaining({ kind: 'running', what: 'dc-1' }))
    expect(p1.netstats?.mode).toBe('NORMAL')
    // a second launch while it runs: no second rebuild
    expect(await sh(launchBody(fake), [s, 'dc-1', '--', 'dc-1'])).toMatch(/^@@running \d+$/m)
    const done = await until(() => probe(s), (p) => p.run.kind === 'exited')
    expect(done.run).toEqual(expect.objectContaining({ kind: 'exited', rc: 0, what: 'dc-1', log: 'rebuilt' }))
    const rebuilds = readFileSync(join(dir, 'argv'), 'utf8').split('\n').filter((l) => / rebuild /.test(l))
    expect(rebuilds).toEqual([`-u jmxuser -pwf ${s}/jmx rebuild -- dc-1`])
  })

  it('gives nodetool the password through a 0600 file that is gone once it exits; never in argv', async () => {
    expect(readFileSync(join(dir, 'pwf-seen'), 'utf8')).toBe('jmxuser S3cret-pw-xyz\n')
    expect(existsSync(join(state('host-a'), 'jmx'))).toBe(false)
    expect(readFileSync(join(dir, 'argv'), 'utf8')).not.toContain('S3cret-pw-xyz')
  })

  it('records a failure with its exit status and message (never counted as done)', async () => {
    const s = state('host-b')
    await sh(launchBody(fake), [s, 'dc-9', '--', 'dc-9'])
    const p = await until(() => probe(s), (v) => v.run.kind === 'exited')
    expect(p.run).toEqual(expect.objectContaining({ kind: 'exited', rc: 2 }))
    expect(p.run.kind === 'exited' && p.run.log).toMatch(/Unable to find sufficient sources/)
  })

  it('a job killed without writing its exit status is "lost" (resumed by the next run)', async () => {
    const s = state('host-c')
    const out = await sh(launchBody(fake), [s, 'dc-1', '--', 'dc-1'], { SLEEP: '30' })
    const pid = Number(/@@started (\d+)/.exec(out)![1])
    process.kill(pid, 'SIGKILL')
    const p = await until(() => probe(s), (v) => v.run.kind !== 'running')
    expect(p.run).toEqual(expect.objectContaining({ kind: 'lost', what: 'dc-1' }))
  })

  it('a probe with a wait returns as soon as the job exits (long poll); netstats only while the job still runs after the wait', async () => {
    const netstatsCalls = (): number => readFileSync(join(dir, 'argv'), 'utf8').split('\n').filter((l) => / netstats/.test(l)).length
    const s = state('host-e')
    await sh(launchBody(fake), [s, 'dc-1', '--', 'dc-1'], { SLEEP: '2' })
    // a wait shorter than the job: netstats read after it (its progress), never before
    let before = netstatsCalls()
    const t1 = Date.now()
    const running = parseProbe(await sh(PROBE_BODY, [s, '1', 'watch']))
    expect(Date.now() - t1).toBeGreaterThanOrEqual(900)
    expect(running.run.kind).toBe('running')
    expect(running.netstats?.mode).toBe('NORMAL')
    expect(netstatsCalls()).toBe(before + 1)
    // a wait longer than the job: back as soon as it exits, and no JVM for a job that is over
    before = netstatsCalls()
    const t0 = Date.now()
    const p = parseProbe(await sh(PROBE_BODY, [s, '20', 'watch']))
    const ms = Date.now() - t0
    expect(p.run).toEqual(expect.objectContaining({ kind: 'exited', rc: 0 }))
    expect(ms).toBeLessThan(8000) // not the 20 s it may wait
    expect(p.netstats).toBeUndefined()
    expect(p.netstatsError).toBeUndefined()
    expect(netstatsCalls()).toBe(before)
  })

  it('the plan reads every job dir without knowing the host ID, netstats only when asked (dry run); waiting for a rebuild that is not ours always reads netstats', async () => {
    const netstatsCalls = (): number => readFileSync(join(dir, 'argv'), 'utf8').split('\n').filter((l) => / netstats/.test(l)).length
    let before = netstatsCalls()
    const bare = parsePlanProbe(await sh(PLAN_PROBE_BODY, [join(dir, 'state'), '']))
    expect(netstatsCalls()).toBe(before) // no JVM: Cassandra itself refuses a second rebuild
    expect(bare.netstats).toBeUndefined()
    expect(bare.netstatsError).toBeUndefined()
    const plan = parsePlanProbe(await sh(PLAN_PROBE_BODY, [join(dir, 'state'), 'netstats']))
    expect(netstatsCalls()).toBe(before + 1)
    expect(plan.netstats?.mode).toBe('NORMAL')
    expect(plan.runs).toEqual(bare.runs) // and reading them removed none
    // the dirs left by the tests above, each under its host ID
    expect(plan.runs.get('host-e')).toEqual(expect.objectContaining({ kind: 'exited', rc: 0, what: 'dc-1', log: 'rebuilt' }))
    expect(plan.runs.get('host-b')).toEqual(expect.objectContaining({ kind: 'exited', rc: 2 }))
    expect(plan.runs.get('host-c')).toEqual(expect.objectContaining({ kind: 'lost', what: 'dc-1' }))
    const node = (hostId: string): TargetNode => ({ pod: 'p', address: '127.0.0.1', hostId, rack: 'r', datacenter: 'dc-2', up: true, state: 'N' })
    expect(probeOf(plan, node('host-b')).run).toEqual(plan.runs.get('host-b'))
    expect(probeOf(plan, node('host-never')).run).toEqual({ kind: 'none' })
    expect(probeOf(plan, node('host-never')).netstats?.mode).toBe('NORMAL')
    // a state dir that does not exist yet: netstats, no run
    const empty = parsePlanProbe(await sh(PLAN_PROBE_BODY, [join(dir, 'no-such-dir'), 'netstats']))
    expect(empty.runs.size).toBe(0)
    expect(empty.netstats?.mode).toBe('NORMAL')
    before = netstatsCalls()
    expect(parseProbe(await sh(PROBE_BODY, [state('host-e'), '0', 'idle'])).netstats?.mode).toBe('NORMAL')
    expect(netstatsCalls()).toBe(before + 1)
  })

  it('a node never touched has no run', async () => {
    expect((await probe(state('host-d'))).run).toEqual({ kind: 'none' })
  })
})

describe('parseProbe', () => {
  it('reports a failing netstats instead of a run state guess', () => {
    const p = parseProbe('@@state\nwhat=dc-1\npid=12\nalive=1\n@@log\n@@netstats\nnodetool: Failed to connect to 127.0.0.1:7199\n@@netstats-exit 1\n')
    expect(p.run).toEqual({ kind: 'running', what: 'dc-1', pid: 12, startedAt: undefined })
    expect(p.netstatsError).toMatch(/Failed to connect/)
  })
})
