// The demo's core: sandbox up -> every stage of promote-region.yml -> a DR drill (dr-drill.yml)
// -> summaries (terminal, Markdown files, one HTML page) -> sandbox down. The stage list comes
// from the workflow files (sandbox/workflow-runner.ts), never from this file.
import { execFile } from 'node:child_process'
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { ROOT } from '../../sandbox/runner.ts'
import { loadWorkflow, runWorkflow, type JobRun, type Workflow, type WorkflowJob } from '../../sandbox/workflow-runner.ts'
import type { StepResult } from '../../sandbox/runner.ts'
import { DEFAULT_RUN_DIR } from '../../sandbox/cassandra/cluster.ts'
import { bold, cyan, dim, green, red, renderHtml, renderTerminal, textTable, writeHtmlPage, type HtmlSection, type Style } from './markdown.ts'
import { describeSandbox, promoteInputs, SERVICE, SOURCE, startSandbox, stopSandbox, TARGET, type KubeMode, type Sandbox } from './world.ts'
import { cassandraRuntime } from '../../sandbox/cassandra/version.ts'

const exec = promisify(execFile)

export interface DemoOptions {
  outDir?: string
  runDir?: string
  addressBase?: number
  rowsPerTable?: number
  /** How long verify and the drill keep a region failed. */
  faultDuration?: string
  color?: boolean
  /** Every line of every step, live. */
  verbose?: boolean
  print?: (text: string) => void
  /** How the steps reach the clusters: a kubeconfig (default) or AKS with Entra ID (scripts/demo/world.ts). */
  mode?: KubeMode
  /** AKS mode: token lifetimes in seconds (Entra access tokens, GitHub ID tokens). */
  aks?: { tokenLifetimeSec?: number; idTokenLifetimeSec?: number }
  /** Run the DR drill after the promotion (default true). */
  drill?: boolean
  /** Called with the running sandbox after the workflows, before the demo's own reads and the teardown (tests read the world here). */
  beforeTeardown?: (sb: Sandbox) => Promise<void>
}

export interface StageResult {
  workflow: string
  job: string
  title: string
  result: JobRun['result']
  ms: number
  /** when the job started (ms since the epoch) */
  startedAt: number
  summaryFile?: string
  outputs: Record<string, string>
  /** what each of its action steps printed, wrote and output (main, post) */
  steps: StepResult[]
}

export interface DemoResult {
  ok: boolean
  stages: StageResult[]
  outDir: string
  html: string
  /** Per region after the drill: deployment spec, running replicas, drill annotation left. */
  afterDrill: Record<string, { spec: number; running: number; annotation?: string }>
  /** Drill failover as measured by verify-failover, and as the ingress's ground truth has it. */
  drill?: { measuredMs: number; truthMs?: number }
  timings: Record<string, number>
  error?: string
}

const fmt = (ms: number): string => (ms < 60000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60000)}m${String(Math.round((ms % 60000) / 1000)).padStart(2, '0')}s`)

export class Demo {
  readonly o: Required<Omit<DemoOptions, 'rowsPerTable' | 'aks' | 'beforeTeardown'>> & Pick<DemoOptions, 'rowsPerTable' | 'aks' | 'beforeTeardown'>
  private readonly s: Style
  private sandbox?: Sandbox
  private stopped?: Promise<string[]>
  private readonly stages: StageResult[] = []
  private readonly sections: HtmlSection[] = []

  constructor(o: DemoOptions = {}) {
    this.o = {
      outDir: o.outDir ?? join(ROOT, 'demo-output'),
      runDir: o.runDir ?? join(DEFAULT_RUN_DIR, '..', 'demo'),
      addressBase: o.addressBase ?? 7,
      rowsPerTable: o.rowsPerTable,
      faultDuration: o.faultDuration ?? '10s',
      color: o.color ?? false,
      verbose: o.verbose ?? false,
      print: o.print ?? ((t) => process.stdout.write(t + '\n')),
      mode: o.mode ?? 'kubeconfig',
      aks: o.aks,
      drill: o.drill ?? true,
      beforeTeardown: o.beforeTeardown
    }
    this.s = { color: this.o.color }
  }

  private say(text = ''): void {
    this.o.print(text)
  }

  /** Stops the sandbox (idempotent; also what Ctrl-C calls). */
  teardown(): Promise<string[]> {
    this.stopped ??= stopSandbox({ arm: this.sandbox?.arm, runDir: this.o.runDir })
    return this.stopped
  }

  async run(): Promise<DemoResult> {
    const t0 = Date.now()
    const timings: Record<string, number> = {}
    const out = this.o.outDir
    rmSync(out, { recursive: true, force: true })
    for (const d of ['summaries', 'logs', 'workspace']) mkdirSync(join(out, d), { recursive: true })
    const result: DemoResult = { ok: false, stages: this.stages, outDir: out, html: join(out, 'index.html'), afterDrill: {}, timings }
    const weights = { [SOURCE]: 50, [TARGET]: 50 }
    const weightText = Object.entries(weights).map(([r, w]) => `${r}=${w}`).join(',')
    try {
      // 1. The sandbox.
      const aks = this.o.mode === 'aks'
      this.say(bold(this.s, `mr-actions demo: promote ${TARGET} next to ${SOURCE}${this.o.drill ? ', then a DR drill' : ''}${aks ? ' (AKS with Entra ID: no kubeconfig, kubelogin)' : ''}`))
      this.say(dim(this.s, `▶ sandbox: starting the world (Kubernetes API doubles${aks ? ' as AKS clusters' : ''}, Cassandra ${SOURCE} dc-1 x2, ${SERVICE} + ingress) and the Azure doubles`))
      this.sandbox = await startSandbox({
        runDir: this.o.runDir,
        workspace: join(out, 'workspace'),
        addressBase: this.o.addressBase,
        rowsPerTable: this.o.rowsPerTable,
        weights,
        replicas: 2,
        mode: this.o.mode,
        aks: this.o.aks,
        log: (l) => this.say(dim(this.s, `  ${l}`))
      })
      const sb = this.sandbox
      timings.sandboxUpMs = sb.upMs
      this.say(green(this.s, `✔ sandbox up in ${fmt(sb.upMs)}`))
      for (const l of describeSandbox(sb)) this.say(`  ${l}`)

      // 2. promote-region.yml, every stage.
      const promote = loadWorkflow(join(ROOT, '.github/workflows/promote-region.yml'))
      const t1 = Date.now()
      const promoted = await this.workflow(promote, promoteInputs(sb, { expectedWeights: weightText, faultDuration: this.o.faultDuration }))
      timings.promoteMs = Date.now() - t1

      // 3. The DR drill: fail the original region, measure, restore.
      if (this.o.drill && promoted.every((r) => r.result === 'success')) {
        const drill = loadWorkflow(join(ROOT, '.github/workflows/dr-drill.yml'))
        const t2 = Date.now()
        const drilled = await this.workflow(drill, {
          region: SOURCE,
          'fault-mode': 'scale-to-zero',
          duration: this.o.faultDuration,
          'expected-weights': weightText,
          topology: '.github/mr-topology.yml',
          ...(this.o.mode === 'aks' ? { 'azure-client-id': sb.azure.clientId, 'azure-tenant-id': sb.azure.tenantId } : {})
        })
        timings.drillMs = Date.now() - t2
        const d = drilled.find((r) => r.outputs['failover-ms'] !== undefined)
        const stepOut = d?.steps.find((s) => s.result)?.result?.outputs ?? {}
        if (stepOut['failover-ms']) {
          const truth = (await (await fetch(`${sb.world.state.traffic!.adminUrl}/truth`)).json()) as Array<{ at: number; region: string; event: string }>
          const faultAt = Number(stepOut['fault-at'])
          const lost = truth.find((e) => e.region === SOURCE && e.event === 'capacity-lost' && e.at >= faultAt)
          result.drill = { measuredMs: Number(stepOut['failover-ms']), truthMs: lost ? lost.at - faultAt : undefined }
        }
      }
      await this.o.beforeTeardown?.(sb)
      if (timings.drillMs !== undefined) result.afterDrill = await this.replicas(sb)
      result.ok = this.stages.length > 0 && this.stages.every((s) => s.result === 'success')
    } catch (e) {
      result.error = (e as Error).message
      this.say(red(this.s, `✘ ${result.error}`))
    } finally {
      const t3 = Date.now()
      this.say(dim(this.s, '▶ sandbox: tearing down'))
      const done = await this.teardown()
      timings.teardownMs = Date.now() - t3
      this.say(dim(this.s, `✔ sandbox down in ${fmt(timings.teardownMs)} (${done.join('; ')})`))
    }
    timings.totalMs = Date.now() - t0
    this.writeOutputs(result)
    this.finalTable(result)
    return result
  }

  /** Runs one workflow's jobs with progress, live log files and summaries. */
  private async workflow(wf: Workflow, inputs: Record<string, unknown>): Promise<JobRun[]> {
    const sb = this.sandbox!
    const name = relative(ROOT, wf.path)
    const n = wf.jobs.length
    this.say('')
    this.say(bold(this.s, `${name}: ${wf.jobs.map((j) => j.id).join(' → ')}`))
    let index = 0
    let current: { job: WorkflowJob; started: number; log: string; last: string } | undefined
    const heartbeat = setInterval(() => {
      if (current && !this.o.verbose) this.say(dim(this.s, `  … ${current.job.id} running ${fmt(Date.now() - current.started)}${current.last ? `: ${current.last}` : ''}`))
    }, 15000)
    try {
      return await runWorkflow(wf, {
        inputs,
        env: sb.env,
        cwd: sb.workspace,
        onJobStart: (job) => {
          index++
          const log = join(this.o.outDir, 'logs', `${wf.name}-${job.id}.log`)
          writeFileSync(log, '')
          current = { job, started: Date.now(), log, last: '' }
          this.say(`${cyan(this.s, '▶')} [${index}/${n}] ${bold(this.s, job.id)}  ${dim(this.s, job.name ?? '')}`)
        },
        live: (chunk) => {
          if (!current) return
          appendFileSync(current.log, chunk)
          const lines = chunk.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('::debug') && !l.startsWith('::add-mask'))
          if (lines.length) current.last = lines[lines.length - 1].replace(/^::\w+( [^:]*)?::/, '').slice(0, 110)
          if (this.o.verbose) for (const l of lines) this.say(dim(this.s, `    ${l}`))
        },
        onJobEnd: (run) => this.jobEnd(wf, run)
      })
    } finally {
      clearInterval(heartbeat)
    }
  }

  private jobEnd(wf: Workflow, run: JobRun): void {
    const parts: string[] = []
    for (const step of run.steps) {
      for (const text of [step.result?.summary, step.result?.post?.summary, step.summary]) if (text?.trim()) parts.push(text)
    }
    let markdown = parts.join('\n\n').trim()
    if (run.result !== 'success' && !markdown) {
      const failed = run.steps.find((s) => s.result && s.result.code !== 0)
      const errors = (failed?.result?.stdout ?? '')
        .split('\n')
        .filter((l) => l.startsWith('::error'))
        .map((l) => l.replace(/^::error[^:]*::/, '').replace(/%0A/g, '\n').replace(/%25/g, '%'))
      markdown += `\n\n### ${run.job.id} failed\n\n${errors.length ? errors.map((e) => `- ${e}`).join('\n') : 'see the log'}\n\nLog: demo-output/logs/${wf.name}-${run.job.id}.log\n`
    }
    const seq = String(this.stages.length + 1).padStart(2, '0')
    const file = join(this.o.outDir, 'summaries', `${seq}-${wf.name}-${run.job.id}.md`)
    writeFileSync(file, markdown ? `${markdown}\n` : `_${run.job.id}: no summary_\n`)
    const title = `${wf.name} › ${run.job.id}`
    const steps = run.steps.flatMap((st) => (st.result ? [st.result, ...(st.result.post ? [st.result.post] : [])] : []))
    this.stages.push({ workflow: String(wf.name), job: run.job.id, title, result: run.result, ms: run.ms, startedAt: Date.now() - run.ms, summaryFile: file, outputs: run.outputs, steps })
    this.sections.push({ id: `${wf.name}-${run.job.id}`, title, result: run.result, duration: fmt(run.ms), markdown: markdown || '_no summary_' })
    const mark = run.result === 'success' ? green(this.s, '✔') : red(this.s, '✘')
    this.say(`${mark} ${bold(this.s, run.job.id)} ${run.result} in ${fmt(run.ms)}`)
    if (markdown) this.say(renderTerminal(markdown, { color: this.o.color, indent: '  │ ', cols: 96 }))
  }

  private async replicas(sb: Sandbox): Promise<DemoResult['afterDrill']> {
    const running = (await (await fetch(`${sb.world.state.traffic!.adminUrl}/replicas`)).json()) as Record<string, number>
    const outp: DemoResult['afterDrill'] = {}
    for (const r of sb.world.state.regions) {
      // the world's admin kubeconfig: the demo's own look, not a step's
      const { stdout } = await exec(join(ROOT, '.cache/bin/kubectl'), ['--kubeconfig', sb.adminKubeconfig, '--context', r.context, '-n', sb.world.state.namespace, 'get', `deployment/${SERVICE}`, '-o', 'json'], { env: { ...process.env, ...sb.env } })
      const d = JSON.parse(stdout) as { spec: { replicas: number }; metadata: { annotations?: Record<string, string> } }
      outp[r.name] = { spec: d.spec.replicas, running: running[r.name] ?? -1, annotation: d.metadata.annotations?.['mr-actions.io/original-replicas'] }
    }
    return outp
  }

  private writeOutputs(r: DemoResult): void {
    const overview = [
      `Promotion of **${TARGET}** next to **${SOURCE}** through every stage of \`.github/workflows/promote-region.yml\`${this.o.drill ? ', then a DR drill through \`.github/workflows/dr-drill.yml\`' : ''}, on the local sandbox (real Cassandra ${cassandraRuntime().version}, real kubectl against Kubernetes API doubles${this.o.mode === 'aks' ? ' reached as AKS clusters with Entra ID (kubeconfig from ARM, the real kubelogin, Entra tokens, RBAC)' : ''}, an ARM double behind the real @azure/arm-network client, helloworld services behind a weighted ingress).`,
      '',
      `Total ${fmt(r.timings.totalMs ?? 0)}: sandbox up ${fmt(r.timings.sandboxUpMs ?? 0)}, promotion ${fmt(r.timings.promoteMs ?? 0)}, drill ${fmt(r.timings.drillMs ?? 0)}, teardown ${fmt(r.timings.teardownMs ?? 0)}.`,
      r.drill ? `\nDrill failover of ${SOURCE}: measured ${r.drill.measuredMs} ms, the ingress's ground truth ${r.drill.truthMs ?? '?'} ms.` : '',
      Object.keys(r.afterDrill).length ? `\nReplicas after the drill: ${Object.entries(r.afterDrill).map(([k, v]) => `${k} ${v.running}/${v.spec}${v.annotation ? ' (annotation left!)' : ''}`).join(', ')}.` : '',
      r.error ? `\n**Error:** ${r.error}` : ''
    ].join('\n')
    writeFileSync(join(r.outDir, 'README.md'), `# mr-actions demo\n\n${overview}\n\n| stage | result | duration | summary |\n|---|---|---:|---|\n${this.stages.map((s) => `| ${s.title} | ${s.result} | ${fmt(s.ms)} | [${relative(r.outDir, s.summaryFile ?? '')}](${relative(r.outDir, s.summaryFile ?? '')}) |`).join('\n')}\n`)
    writeHtmlPage(r.html, renderHtml('mr-actions demo', overview, this.sections))
  }

  private finalTable(r: DemoResult): void {
    this.say('')
    this.say(bold(this.s, 'Summary'))
    const rows = this.stages.map((s) => [s.title, s.result === 'success' ? green(this.s, s.result) : red(this.s, s.result), fmt(s.ms)])
    rows.push(['total (incl. sandbox up/down)', r.ok ? green(this.s, 'success') : red(this.s, 'failure'), fmt(r.timings.totalMs ?? 0)])
    for (const l of textTable(['stage', 'result', 'duration'], rows, this.s, [null, null, 'right'])) this.say(`  ${l}`)
    if (r.drill) this.say(`  drill failover: measured ${r.drill.measuredMs} ms, ingress ground truth ${r.drill.truthMs ?? '?'} ms`)
    if (Object.keys(r.afterDrill).length) this.say(`  replicas after the drill: ${Object.entries(r.afterDrill).map(([k, v]) => `${k} ${v.running}/${v.spec}`).join(', ')}`)
    this.say(`  summaries: ${relative(ROOT, join(r.outDir, 'summaries'))}/*.md, page: ${relative(ROOT, r.html)}, logs: ${relative(ROOT, join(r.outDir, 'logs'))}/`)
  }
}
