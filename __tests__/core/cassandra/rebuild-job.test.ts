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
import { launchBody, parseProbe, PROBE_BODY } from '../../../src/core/cassandra/rebuild.ts'

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
const probe = async (s: string) => parseProbe(await sh(PROBE_BODY, [s]))
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

  it('a probe with a wait returns as soon as the job exits (long poll), and an exited job costs no netstats', async () => {
    const s = state('host-e')
    await sh(launchBody(fake), [s, 'dc-1', '--', 'dc-1'], { SLEEP: '1' })
    const t0 = Date.now()
    const p = parseProbe(await sh(PROBE_BODY, [s, '20']))
    const ms = Date.now() - t0
    expect(p.run).toEqual(expect.objectContaining({ kind: 'exited', rc: 0 }))
    expect(p.netstats?.mode).toBe('NORMAL') // read while it ran
    expect(ms).toBeGreaterThanOrEqual(600)
    expect(ms).toBeLessThan(8000) // not the 20 s it may wait
    const netstatsCalls = (): number => readFileSync(join(dir, 'argv'), 'utf8').split('\n').filter((l) => / netstats/.test(l)).length
    const before = netstatsCalls()
    const again = parseProbe(await sh(PROBE_BODY, [s, '20']))
    expect(again.run.kind).toBe('exited')
    expect(again.netstats).toBeUndefined()
    expect(again.netstatsError).toBeUndefined()
    expect(netstatsCalls()).toBe(before)
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
