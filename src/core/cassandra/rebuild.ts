// The I/O half of rebuild-dc: starts `nodetool rebuild` inside a Cassandra pod as a background
// job that outlives the `kubectl exec` (and this action), then watches it with one exec per poll
// that reads the job's state files and runs `nodetool netstats`.
//
// In the pod, per node (keyed by Cassandra host ID, so a replaced node is rebuilt again):
//   <state-dir>/<host-id>/what      the request ("dc-1" or "dc-1 -ks a,b")
//                         pid       the background job
//                         log       nodetool's output
//                         rc        nodetool's exit status, written last (atomically)
//                         jmx       the -pwf file (0600), removed when nodetool exits
// A later run (after a cancel, a failure or the 6-hour job limit) reads these files: exit 0 for the
// same request = done; a live job = re-attach; anything else = run again (Cassandra skips the
// ranges it already streamed, recorded in system.available_ranges_v2).
import { ActionError, TimeoutError } from '../errors.ts'
import { type Deadline, formatDuration, sleep as realSleep } from '../wait.ts'
import { type NetStats, parseNetStats, receiveProgress } from './netstats.ts'
import type { Cqlsh } from './cqlsh.ts'
import type { Nodetool } from './nodetool.ts'
import { availableRanges, type Coverage, coverage, parseDescribeRing, type RingRange } from './rebuild-ranges.ts'
import { decide, type Decision, type PodRun, type RebuildRequest, rebuildArgs, requestKey, type TargetNode } from './rebuild-plan.ts'
import { formatBytes, NodeProgress } from './rebuild-progress.ts'

export function nodeStateDir(stateDir: string, node: TargetNode): string {
  return `${stateDir.replace(/\/+$/, '')}/${node.hostId}`
}

/** sh body (run through Nodetool.shell, so $U/$P hold the JMX credentials): start the job. */
export function launchBody(bin: string): string {
  return `s="$1"; what="$2"; shift 2
mkdir -p "$s"
if [ -f "$s/pid" ] && [ ! -f "$s/rc" ] && kill -0 "$(cat "$s/pid")" 2>/dev/null; then echo "@@running $(cat "$s/pid")"; exit 0; fi
rm -f "$s/rc" "$s/rc.tmp" "$s/finished" "$s/log" "$s/pid" "$s/jmx"
printf '%s\\n' "$what" > "$s/what"
date +%s > "$s/started"
if [ -n "\${U:-}" ]; then printf '%s %s\\n' "$U" "$P" > "$s/jmx"; fi
(
  set +e
  trap '' HUP INT
  if [ -n "\${U:-}" ]; then ${bin} -u "$U" -pwf "$s/jmx" rebuild "$@" > "$s/log" 2>&1; else ${bin} rebuild "$@" > "$s/log" 2>&1; fi
  rc=$?
  rm -f "$s/jmx"
  date +%s > "$s/finished"
  echo "$rc" > "$s/rc.tmp" && mv "$s/rc.tmp" "$s/rc"
) </dev/null >/dev/null 2>&1 &
echo $! > "$s/pid"
echo "@@started $!"`
}

// sh functions shared by both probes: whether the job of a state dir runs, and its state and log.
const PROBE_FNS = `alive() { [ -f "$1/pid" ] && [ ! -f "$1/rc" ] && kill -0 "$(cat "$1/pid")" 2>/dev/null; }
state() {
  echo "@@state"
  if [ -f "$1/what" ]; then echo "what=$(cat "$1/what")"; fi
  if [ -f "$1/pid" ]; then echo "pid=$(cat "$1/pid")"; if alive "$1"; then echo "alive=1"; fi; fi
  if [ -f "$1/rc" ]; then echo "rc=$(cat "$1/rc")"; rm -f "$1/jmx"; fi
  if [ -f "$1/started" ]; then echo "started=$(cat "$1/started")"; fi
  if [ -f "$1/finished" ]; then echo "finished=$(cat "$1/finished")"; fi
  echo "@@log"
  if [ -f "$1/log" ]; then tail -n 40 "$1/log"; fi
}
netstats() {
  echo "@@netstats"
  if nt netstats; then :; else echo "@@netstats-exit $?"; fi
}`

/**
 * sh body while a job is watched: a long poll of up to $2 seconds that returns as soon as our job
 * exits, then `nodetool netstats` when $3 asks for it, then the job's state and log tail. $3:
 * "watch" (our job's progress: netstats only if it still runs after the wait, so a finished job
 * costs no JVM and none runs beside the rebuild's own nodetool as it starts) or "idle" (always:
 * waiting for a rebuild that is not ours). The end of a job is seen within 0.2 s.
 */
export const PROBE_BODY = `s="$1"; w="\${2:-0}"; m="\${3:-watch}"
${PROBE_FNS}
n=$((w * 5)); while [ "$n" -gt 0 ] && alive "$s"; do sleep 0.2 2>/dev/null || sleep 1; n=$((n - 1)); done
if [ "$m" = idle ] || alive "$s"; then netstats; fi
state "$s"`

/**
 * sh body for the plan: the state of every job dir under the state dir $1, each after "@@host
 * <host id>", and netstats when $2 is "netstats". It needs no host ID, so it runs while the ring
 * is still being read; the plan picks the dir of the node's host ID. (Not $d: the credentials
 * wrapper removes its temp dir "$d" on exit.)
 */
export const PLAN_PROBE_BODY = `r="$1"
${PROBE_FNS}
if [ "\${2:-}" = netstats ]; then netstats; fi
for j in "$r"/*/; do
  [ -d "$j" ] || continue
  j="\${j%/}"; echo "@@host \${j##*/}"; state "$j"
done`

/** When a watch probe reads netstats (PROBE_BODY's $3). */
export type ProbeMode = 'watch' | 'idle'

export interface Probe {
  run: PodRun
  netstats?: NetStats
  netstatsError?: string
}

/** Parses the probe's output (pure). */
export function parseProbe(out: string): Probe {
  const sections: Record<string, string[]> = { state: [], log: [], netstats: [] }
  const seen = new Set<string>()
  let cur: string | undefined
  for (const line of out.replace(/\r/g, '').split('\n')) {
    const m = /^@@(state|log|netstats)$/.exec(line)
    if (m) {
      cur = m[1]
      seen.add(cur)
      continue
    }
    if (cur) sections[cur].push(line)
  }
  const kv: Record<string, string> = {}
  for (const l of sections.state) {
    const i = l.indexOf('=')
    if (i > 0) kv[l.slice(0, i)] = l.slice(i + 1)
  }
  const log = sections.log.join('\n').trim()
  const what = kv.what ?? ''
  const num = (s: string | undefined): number | undefined => (s !== undefined && /^\d+$/.test(s.trim()) ? Number(s.trim()) : undefined)
  let run: PodRun
  if (kv.rc !== undefined) run = { kind: 'exited', what, rc: num(kv.rc) ?? 255, startedAt: num(kv.started), finishedAt: num(kv.finished), log }
  else if (kv.alive) run = { kind: 'running', what, pid: num(kv.pid) ?? 0, startedAt: num(kv.started) }
  else if (kv.pid !== undefined) run = { kind: 'lost', what, log }
  else run = { kind: 'none' }
  // no netstats section: the job had exited, netstats was not needed
  if (!seen.has('netstats')) return { run }
  const nsText = sections.netstats.join('\n')
  const failed = /^@@netstats-exit (\d+)$/m.exec(nsText)
  if (failed) return { run, netstatsError: nsText.replace(/^@@netstats-exit \d+$/m, '').trim() || `exit ${failed[1]}` }
  try {
    return { run, netstats: parseNetStats(nsText) }
  } catch (e) {
    return { run, netstatsError: e instanceof Error ? e.message : String(e) }
  }
}

/** Why a probe exec failed: its exit status and the last lines it printed. */
const probeExecFailed = (res: { code: number; stdout: string; stderr: string }): string => `probe exec failed (exit ${res.code}): ${(res.stderr || res.stdout).trim().split('\n').slice(-3).join(' ')}`

/** What the plan's probe of one pod read: netstats, and the job state of each host ID's dir. */
export interface PodProbe {
  netstats?: NetStats
  netstatsError?: string
  runs: Map<string, PodRun>
}

/** Parses PLAN_PROBE_BODY's output (pure). */
export function parsePlanProbe(out: string): PodProbe {
  const [head, ...hosts] = out.replace(/\r/g, '').split(/^@@host /m)
  const { netstats, netstatsError } = parseProbe(head)
  const runs = new Map<string, PodRun>()
  for (const h of hosts) {
    const nl = h.indexOf('\n')
    runs.set((nl < 0 ? h : h.slice(0, nl)).trim(), parseProbe(nl < 0 ? '' : h.slice(nl + 1)).run)
  }
  return { netstats, netstatsError, runs }
}

/** The probe of one node out of its pod's plan probe (no dir for its host ID: never run here). */
export const probeOf = (p: PodProbe, node: TargetNode): Probe => ({ run: p.runs.get(node.hostId) ?? { kind: 'none' }, netstats: p.netstats, netstatsError: p.netstatsError })

/**
 * The plan's probe of a pod: one exec, every job dir's state, and with `netstats` (a JVM) whether
 * Cassandra runs a rebuild that is not ours. A real run leaves netstats out: Cassandra refuses a
 * second rebuild itself ("Node is still rebuilding"), atomically, and rebuildNode meets that
 * refusal by waiting; a dry run reads it, as its plan is all it shows.
 */
export async function planProbe(ctx: Pick<RebuildContext, 'nodetool' | 'stateDir'>, pod: string, o: { netstats: boolean }): Promise<PodProbe> {
  const args = [ctx.stateDir.replace(/\/+$/, ''), o.netstats ? 'netstats' : '']
  const res = await ctx.nodetool.shell(pod, PLAN_PROBE_BODY, args, { quiet: true, allowFailure: true, timeoutMs: 120_000 })
  if (res.code !== 0) return { runs: new Map(), netstatsError: probeExecFailed(res) }
  return parsePlanProbe(res.stdout)
}

export const isRebuilding = (ns: NetStats | undefined): boolean => (ns?.plans ?? []).some((p) => p.operation === 'Rebuild')

export interface RebuildContext {
  nodetool: Nodetool
  stateDir: string
  request: RebuildRequest
  pollMs: number
  progressMs: number
  stallMs: number
  deadline: Deadline
  log: (line: string) => void
  /** Cassandra's record of what the node already streamed, consulted before starting a node (`fresh`: read again now). */
  coverage?: (node: TargetNode, fresh?: boolean) => Promise<Coverage>
  now?: () => number
  sleep?: (ms: number) => Promise<void>
}

export type Outcome = 'rebuilt' | 'skipped' | 'failed' | 'not-started'

export interface NodeResult {
  node: TargetNode
  outcome: Outcome
  /** Bytes received while this run watched. */
  bytes: number
  ms: number
  why: string
  error?: string
}

export class RebuildFailed extends ActionError {}

/** One probe exec; with waitMs > 0 it returns when the job exits or after waitMs (long poll). */
export async function probe(ctx: Pick<RebuildContext, 'nodetool' | 'stateDir'>, node: TargetNode, mode: ProbeMode, waitMs = 0): Promise<Probe> {
  const waitS = Math.ceil(waitMs / 1000)
  const res = await ctx.nodetool.shell(node.pod, PROBE_BODY, [nodeStateDir(ctx.stateDir, node), String(waitS), mode], { quiet: true, allowFailure: true, timeoutMs: 120_000 + waitS * 1000 })
  if (res.code !== 0) return { run: { kind: 'none' }, netstatsError: probeExecFailed(res) }
  return parseProbe(res.stdout)
}

/** Reads what a node's pod says now and what we would do with it (used for the plan too). */
export async function inspectNode(ctx: RebuildContext, node: TargetNode, probed?: Promise<Probe>): Promise<{ probe: Probe; decision: Decision }> {
  const p = await (probed ?? planProbe(ctx, node.pod, { netstats: true }).then((pp) => probeOf(pp, node)))
  if (p.netstatsError && p.run.kind !== 'exited') {
    throw new ActionError(`cannot read the rebuild state of ${node.pod}: ${p.netstatsError}`, 'check that Cassandra runs in that pod and the JMX credentials')
  }
  const evidence = { run: p.run, streaming: isRebuilding(p.netstats) }
  let decision = decide(evidence, ctx.request)
  if (decision.action === 'start' && ctx.coverage) decision = decide({ ...evidence, ranges: await ctx.coverage(node) }, ctx.request)
  return { probe: p, decision }
}

/** `nodetool describering` of each keyspace, in one exec (the ring is the same from any node). */
export async function readRings(nodetool: Nodetool, pod: string, keyspaces: string[]): Promise<Map<string, RingRange[]>> {
  const rings = new Map<string, RingRange[]>()
  if (!keyspaces.length) return rings
  const res = await nodetool.shell(pod, 'for k in "$@"; do echo "@@ks $k"; nt describering "$k"; done', keyspaces, { quiet: false, timeoutMs: 60_000 + 30_000 * keyspaces.length })
  let cur: string | undefined
  const text: Record<string, string[]> = {}
  for (const line of res.stdout.split('\n')) {
    const m = /^@@ks (.+)$/.exec(line)
    if (m) cur = m[1]
    else if (cur) (text[cur] ??= []).push(line)
  }
  for (const k of keyspaces) rings.set(k, parseDescribeRing((text[k] ?? []).join('\n')))
  return rings
}

type StreamedRows = Array<{ keyspace_name: string; full_ranges?: string[] | null }>

/** The node's own system.available_ranges_v2, every keyspace (what readCoverage starts from; the plan reads it early). */
export function readStreamedRanges(cql: Cqlsh, pod: string): Promise<StreamedRows> {
  return cql.selectJson<StreamedRows[number]>(pod, 'SELECT JSON keyspace_name, full_ranges FROM system.available_ranges_v2', { quiet: true })
}

/**
 * What the node itself records as streamed (system.available_ranges_v2, read on its own pod) for
 * the keyspaces in scope. The ring (a nodetool JVM per keyspace) is only read when the node has
 * recorded anything for them: a node never rebuilt has nothing, and that answers on its own.
 */
export async function readCoverage(cql: Cqlsh, node: TargetNode, keyspaces: string[], rings: () => Promise<Map<string, RingRange[]>>, read?: Promise<StreamedRows>): Promise<Coverage> {
  const available = availableRanges(await (read ?? readStreamedRanges(cql, node.pod)))
  if (!keyspaces.some((k) => (available.get(k)?.size ?? 0) > 0)) return 'none'
  return coverage(node.address, await rings(), available).overall
}

async function launch(ctx: RebuildContext, node: TargetNode): Promise<void> {
  const dir = nodeStateDir(ctx.stateDir, node)
  const res = await ctx.nodetool.shell(node.pod, launchBody(ctx.nodetool.bin), [dir, requestKey(ctx.request), ...rebuildArgs(ctx.request)], { timeoutMs: 120_000 })
  const m = /^@@(started|running) (\d+)/m.exec(res.stdout)
  if (!m) throw new ActionError(`could not start the rebuild in ${node.pod}: ${res.stdout.trim() || res.stderr.trim()}`)
  ctx.log(m[1] === 'started' ? `${node.pod}: nodetool rebuild ${rebuildArgs(ctx.request).join(' ')} started (job ${m[2]}, state ${dir})` : `${node.pod}: Node is still rebuilding (job ${m[2]}): re-attaching`)
}

function failureText(log: string): string {
  const lines = log.split('\n').filter((l) => l.trim())
  const key = lines.find((l) => /Unable to find sufficient sources|still rebuilding|Discovered existing bootstrap data|error:|Exception|Authentication failed|Connection refused/i.test(l))
  // Cassandra's messages can list every range: keep the first 300 characters.
  const text = key ? key.trim().replace(/^(nodetool|error):\s*/i, '') : lines.slice(-3).join(' ') || 'no output'
  return text.length > 300 ? `${text.slice(0, 300)}...` : text
}

/**
 * Watches a node until its job exits (or, when `untilIdle`, until no job and no Rebuild stream
 * remain). Prints progress every progressMs; throws on stall, deadline or failure.
 */
async function watch(ctx: RebuildContext, node: TargetNode, progress: NodeProgress, untilIdle: boolean): Promise<Probe> {
  const sleep = ctx.sleep ?? realSleep
  const now = ctx.now ?? Date.now
  let lastPrint = 0
  let errors = 0
  for (;;) {
    const before = now()
    const p = await probe(ctx, node, untilIdle ? 'idle' : 'watch', ctx.pollMs > 0 ? Math.min(ctx.pollMs, Math.max(0, ctx.deadline.remaining())) : 0)
    if (p.netstats) {
      errors = 0
      progress.sample(receiveProgress(p.netstats))
    } else if (p.run.kind !== 'exited' && ++errors >= 3) {
      throw new RebuildFailed(`${node.pod}: cannot read netstats 3 times in a row: ${p.netstatsError}`, 'check that Cassandra is running in that pod; re-run to re-attach')
    }
    const running = p.run.kind === 'running'
    if (untilIdle ? !running && !isRebuilding(p.netstats) : !running) return p
    if (now() - lastPrint >= ctx.progressMs) {
      ctx.log(progress.line())
      lastPrint = now()
    }
    const stall = progress.stall()
    if (stall) {
      const from = stall.peers.length ? `from ${stall.peers.join(', ')}` : 'no stream session ever started'
      throw new RebuildFailed(
        `${node.pod} (${node.address}): rebuild stalled: no byte received for ${formatDuration(stall.forMs)} (${from})`,
        `check the source node(s) and the network between the datacenters (nodetool netstats on ${node.pod}); the job keeps running in the pod, a re-run re-attaches. Cassandra 4.0+ counts the bytes of an entire-SSTable transfer only when the file is complete: keep stall-timeout above the time your largest SSTable takes`
      )
    }
    if (ctx.deadline.expired()) {
      throw new TimeoutError(
        `${node.pod}: the rebuild is still running when this run's time ran out (${progress.line()})`,
        're-run rebuild-dc: it re-attaches to the running rebuild and continues with the remaining nodes'
      )
    }
    // the probe's long poll already waited while the job ran; sleep only for the rest
    const rest = Math.min(ctx.pollMs, ctx.deadline.remaining()) - (now() - before)
    if (rest > 0) await sleep(rest)
  }
}

/** Rebuilds one node: skip, start or re-attach per the decision; resolves with the outcome. */
export async function rebuildNode(ctx: RebuildContext, node: TargetNode, known?: Decision): Promise<NodeResult> {
  const now = ctx.now ?? Date.now
  const t0 = now()
  const decision = known ?? (await inspectNode(ctx, node)).decision
  const progress = new NodeProgress(node.pod, { stallMs: ctx.stallMs, now })
  const result = (outcome: Outcome, error?: string): NodeResult => ({ node, outcome, bytes: progress.doneBytes, ms: now() - t0, why: decision.why, error })
  ctx.log(`${node.pod} (${node.address}, rack ${node.rack}): ${decision.why}`)
  if (decision.action === 'skip') return result('skipped')
  let startsLeft = 2
  let mustStart = decision.action === 'start' || decision.thenStart
  if (decision.action === 'attach') await watch(ctx, node, progress, decision.thenStart)
  // After a rebuild that was not ours: it may have streamed everything (Cassandra 5.0 refuses to
  // rebuild over streamed ranges), so ask the node again before starting ours.
  const streamedByOthers = async (): Promise<boolean> => (await ctx.coverage?.(node, true)) === 'complete'
  const othersDone = (): NodeResult => {
    ctx.log(`${node.pod}: the rebuild that was not ours streamed every range (system.available_ranges_v2): nothing left to run`)
    return { ...result('skipped'), why: 'streamed by a rebuild that was not ours (system.available_ranges_v2)' }
  }
  if (decision.action === 'attach' && decision.thenStart && (await streamedByOthers())) return othersDone()
  for (;;) {
    if (mustStart) {
      await launch(ctx, node)
      startsLeft--
    }
    const end = await watch(ctx, node, progress, false)
    if (end.run.kind === 'exited' && end.run.rc === 0) {
      progress.succeeded()
      ctx.log(`${node.pod}: rebuild finished (exit 0), ${formatBytes(progress.doneBytes)} received in ${formatDuration(now() - t0)}`)
      return result('rebuilt')
    }
    const log = end.run.kind === 'exited' || end.run.kind === 'lost' ? end.run.log : ''
    if (/still rebuilding/i.test(log) && startsLeft > 0) {
      // Someone else's rebuild holds the node: wait for it, then run ours (it skips what is done).
      ctx.log(`${node.pod}: Node is still rebuilding (not our job): waiting for it, then running ours`)
      await watch(ctx, node, progress, true)
      if (await streamedByOthers()) return othersDone()
      mustStart = true
      continue
    }
    const why = end.run.kind === 'exited' ? `exit ${end.run.rc}` : 'the job disappeared without an exit status (pod restarted?)'
    throw new RebuildFailed(
      `${node.pod} (${node.address}): nodetool rebuild ${rebuildArgs(ctx.request).join(' ')} failed (${why}): ${failureText(log)}`,
      /Unable to find sufficient sources/i.test(log)
        ? `the source datacenter '${ctx.request.sourceDc}' holds no replica for some range: check source-datacenter and that expand-keyspaces ran (keyspaces must replicate to both DCs)`
        : /Discovered existing bootstrap data/i.test(log)
          ? 'this node already streamed part of the data and Cassandra 5.0 refuses to rebuild over it: restart the node with the JVM option -Dcassandra.reset_bootstrap_progress=false (resume, keeps what was streamed) or =true (start over), then re-run'
          : 'read the log above; fix the cause and re-run (done nodes are skipped, streamed ranges kept)'
    )
  }
}

/**
 * Runs the lanes (lanes at the same time, nodes within a lane one after another). After a
 * failure no new node starts; nodes already running are watched to their end. `planned` holds
 * the decisions read for the plan.
 */
export async function rebuildLanes(ctx: RebuildContext, lanes: TargetNode[][], planned?: Map<string, Decision>): Promise<NodeResult[]> {
  const results: NodeResult[] = []
  let failed = false
  await Promise.all(
    lanes.map(async (lane) => {
      for (const node of lane) {
        if (failed) {
          results.push({ node, outcome: 'not-started', bytes: 0, ms: 0, why: 'another node failed' })
          continue
        }
        try {
          // The plan's reading holds for later nodes too: nothing of ours touches a node before
          // its turn, and a rebuild someone else starts meanwhile is met by launch/watch.
          results.push(await rebuildNode(ctx, node, planned?.get(node.pod)))
        } catch (e) {
          failed = true
          const msg = e instanceof ActionError ? e.describe() : e instanceof Error ? e.message : String(e)
          ctx.log(`::error::${msg.split('\n')[0]}`)
          results.push({ node, outcome: 'failed', bytes: 0, ms: 0, why: 'failed', error: msg })
        }
      }
    })
  )
  return results
}
