// An emulation of the part of the Apigee operator that handles CassandraDataReplication, attached
// to one region's Kubernetes API double. It owns an ApigeeDatastore (default `default` in
// namespace apigee), watches the CassandraDataReplications of that namespace and, for each new
// object or changed generation, runs the same real rebuilds the nodetool path runs:
// `nodetool rebuild -- <spec.source.region>` in each Cassandra pod of the region, one after
// another, through the pods' exec (JMX credentials from the datastore's credentials secret, on
// stdin). It reports as the operator does, in the datastore's status:
//
//   status.cassandraDataReplication: { state: running | complete | error,
//     rebuildDetails: { <pod>: { state, message?, updated } } }
//
// (and `status.state` on the CassandraDataReplication). A failing rebuild ends the run in state
// error with Cassandra's own message ("failed to rebuild from dc-9: Provided datacenter 'dc-9'
// is not a valid datacenter, ..."). Assumptions where the vendor documents nothing: a run starts
// with empty rebuildDetails; with `force: false` a replication from the source that this operator
// last completed is reported complete without rebuilding again (`force: true` always rebuilds);
// a newer generation supersedes a running one after its current pod.
//
//   const op = startApigeeOperator({ kube: targetCluster })   // creates apigeedatastore/default
//   ... kubectl apply -f cdr.yaml; kubectl -n apigee get apigeeds -o json ...
//   await op.stop()
//
// No jest in here: the world (sandbox/world.ts) can attach it to a region too.
import type { KubeCluster, KubeObject } from './kube/index.ts'

export interface ApigeeOperatorOptions {
  kube: KubeCluster
  namespace?: string
  /** the ApigeeDatastore it owns; default 'default' */
  datastore?: string
  /** labels of the region's Cassandra pods; default app=apigee-cassandra */
  podLabels?: Record<string, string>
  /** secret with jmx.user / jmx.password; default apigee-datastore-default-creds */
  credentialsSecret?: string
  /** nodetool inside the pods; default 'nodetool' */
  nodetool?: string
  /** how often the CassandraDataReplications are listed; default 250 ms */
  pollMs?: number
  log?: (line: string) => void
}

export interface PodDetail {
  state: 'running' | 'complete' | 'error'
  message?: string
  updated: number
}

/** One replication the operator ran (for tests and the world's logs). */
export interface OperatorRun {
  name: string
  uid: string
  generation: number
  source: string
  force: boolean
  state: 'running' | 'complete' | 'error' | 'superseded'
  rebuildDetails: Record<string, PodDetail>
}

type Obj = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const epoch = (): number => Math.floor(Date.now() / 1000)
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Cassandra's message from nodetool's output: its "nodetool:" / "error:" line, else the last line. */
export function cassandraMessage(out: string): string {
  const lines = out.split('\n').map((l) => l.trim()).filter(Boolean)
  const key = lines.find((l) => /^(nodetool|error):/i.test(l))
  const text = (key ?? lines[lines.length - 1] ?? 'no output').replace(/^(nodetool|error):\s*/i, '')
  return text.length > 500 ? `${text.slice(0, 500)}...` : text
}

export class ApigeeOperator {
  readonly kube: KubeCluster
  readonly namespace: string
  readonly datastore: string
  readonly runs: OperatorRun[] = []
  private readonly o: ApigeeOperatorOptions
  private readonly handled = new Set<string>()
  /** pod -> source of the last replication this operator completed there */
  private readonly done = new Map<string, string>()
  private stopped = true
  private loop?: Promise<void>

  constructor(o: ApigeeOperatorOptions) {
    this.o = o
    this.kube = o.kube
    this.namespace = o.namespace ?? 'apigee'
    this.datastore = o.datastore ?? 'default'
  }

  private log(line: string): void {
    this.o.log?.(`apigee-operator(${this.kube.name}): ${line}`)
  }

  /** The ApigeeDatastore this operator reports into (created when missing). */
  ensureDatastore(): KubeObject {
    const ds = this.kube.get('apigeedatastores', this.namespace, this.datastore)
    if (ds) return ds
    return this.kube.apply({
      apiVersion: 'apigee.cloud.google.com/v1alpha1',
      kind: 'ApigeeDatastore',
      metadata: { name: this.datastore, namespace: this.namespace },
      spec: { name: this.datastore },
      status: { state: 'running' }
    })
  }

  start(): this {
    if (!this.stopped) return this
    this.ensureDatastore()
    this.stopped = false
    this.loop = this.reconcile()
    return this
  }

  /** Stops watching; resolves once the rebuild in flight (if any) has returned. */
  async stop(): Promise<void> {
    this.stopped = true
    await this.loop
  }

  private key(o: KubeObject): string {
    return `${o.metadata.uid}@${o.metadata.generation ?? 1}`
  }

  private async reconcile(): Promise<void> {
    while (!this.stopped) {
      const next = this.kube
        .list('cassandradatareplications', this.namespace)
        .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)))
        .find((o) => !this.handled.has(this.key(o)))
      if (!next) {
        await sleep(this.o.pollMs ?? 250)
        continue
      }
      this.handled.add(this.key(next))
      try {
        await this.replicate(next)
      } catch (e) {
        this.log(`replication ${next.metadata.name} aborted: ${e instanceof Error ? e.message : String(e)}`)
      }
    }
  }

  private credentials(): { user: string; password: string } | undefined {
    const s = this.kube.get('secrets', this.namespace, this.o.credentialsSecret ?? 'apigee-datastore-default-creds') as Obj | undefined
    const v = (k: string): string | undefined => (s?.data?.[k] ? Buffer.from(String(s.data[k]), 'base64').toString('utf8').trim() : undefined)
    const user = v('jmx.user')
    const password = v('jmx.password')
    return user && password ? { user, password } : undefined
  }

  private pods(): string[] {
    const want = Object.entries(this.o.podLabels ?? { app: 'apigee-cassandra' })
    const pods = this.kube
      .list('pods', this.namespace)
      .filter((p) => want.every(([k, v]) => p.metadata.labels?.[k] === v) && (p as Obj).status?.phase === 'Running')
      .map((p) => ({ name: String(p.metadata.name) }))
    return pods.map((p) => p.name).sort((a, b) => ordinal(a) - ordinal(b) || a.localeCompare(b))
  }

  private report(run: OperatorRun): void {
    const status = { state: run.state === 'superseded' ? 'running' : run.state, rebuildDetails: run.rebuildDetails }
    const ds = this.ensureDatastore() as Obj
    this.kube.putStatus('apigeedatastores', this.namespace, this.datastore, { ...(ds.status ?? {}), cassandraDataReplication: status })
    if (this.kube.get('cassandradatareplications', this.namespace, run.name)) {
      this.kube.putStatus('cassandradatareplications', this.namespace, run.name, { state: status.state })
    }
  }

  /** The object changed (new generation) or went away since this run started. */
  private superseded(run: OperatorRun): boolean {
    const cur = this.kube.get('cassandradatareplications', this.namespace, run.name)
    return this.stopped || !cur || cur.metadata.uid !== run.uid || (cur.metadata.generation ?? 1) !== run.generation
  }

  private async replicate(cdr: KubeObject): Promise<void> {
    const spec = ((cdr as Obj).spec ?? {}) as Obj
    const run: OperatorRun = {
      name: String(cdr.metadata.name),
      uid: String(cdr.metadata.uid),
      generation: Number(cdr.metadata.generation ?? 1),
      source: String(spec.source?.region ?? ''),
      force: spec.force === true,
      state: 'running',
      rebuildDetails: {}
    }
    this.runs.push(run)
    this.log(`replication ${run.name} (generation ${run.generation}) from ${run.source || '(none)'}, force ${run.force}`)
    this.report(run)
    for (const pod of this.pods()) {
      if (this.superseded(run)) {
        run.state = 'superseded'
        // stopped (an operator restart): the object is reconciled again after start()
        if (this.stopped) this.handled.delete(`${run.uid}@${run.generation}`)
        this.log(`replication ${run.name} generation ${run.generation} ${this.stopped ? 'interrupted (operator stopped)' : 'superseded'} before ${pod}`)
        return
      }
      if (!run.force && run.source && this.done.get(pod) === run.source) {
        run.rebuildDetails[pod] = { state: 'complete', message: `already replicated from ${run.source}`, updated: epoch() }
        this.report(run)
        continue
      }
      run.rebuildDetails[pod] = { state: 'running', updated: epoch() }
      this.report(run)
      const r = await this.rebuild(pod, run.source)
      if (r.ok) {
        this.done.set(pod, run.source)
        run.rebuildDetails[pod] = { state: 'complete', updated: epoch() }
        this.report(run)
        continue
      }
      run.rebuildDetails[pod] = { state: 'error', message: `failed to rebuild from ${run.source}: ${r.message}`, updated: epoch() }
      run.state = 'error'
      this.log(`${pod}: ${run.rebuildDetails[pod].message}`)
      this.report(run)
      return
    }
    run.state = 'complete'
    this.report(run)
    this.log(`replication ${run.name} complete`)
  }

  /** `nodetool rebuild -- <source>` in the pod, through its exec (as the nodetool path runs it). */
  private async rebuild(pod: string, source: string): Promise<{ ok: boolean; message: string }> {
    if (!source) return { ok: false, message: 'spec.source.region is empty' }
    // JMX credentials on stdin, into a 0600 -pwf file in a private temp dir: never argv
    const c = this.credentials()
    const nodetool = this.o.nodetool ?? 'nodetool'
    const script = [
      'set -e',
      'umask 077',
      'd=$(mktemp -d)',
      `trap 'rm -rf "$d"' EXIT`,
      c ? `IFS= read -r U; IFS= read -r P\nprintf '%s %s\\n' "$U" "$P" > "$d/jmx"\n${nodetool} -u "$U" -pwf "$d/jmx" rebuild -- "$1"` : `${nodetool} rebuild -- "$1"`
    ].join('\n')
    const r = await this.kube.exec(this.namespace, pod, ['sh', '-c', script, 'sh', source], { stdin: c ? `${c.user}\n${c.password}\n` : '' })
    return { ok: r.code === 0, message: cassandraMessage(`${r.stdout}\n${r.stderr}`) }
  }
}

/** The StatefulSet ordinal of a pod name (`...-2` -> 2), as the operator walks its pods. */
function ordinal(name: string): number {
  const m = /-(\d+)$/.exec(name)
  return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER
}

/** Attaches the emulation to a region's API double and starts watching. */
export function startApigeeOperator(o: ApigeeOperatorOptions): ApigeeOperator {
  return new ApigeeOperator(o).start()
}
