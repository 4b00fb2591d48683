// What an action tells the world: step outputs, the job summary and one JSON report file per
// run (for later stages and for humans). Everything passes through redact() on the way out.
import * as core from '@actions/core'
import { mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ActionError } from './errors.ts'
import { containsSecret, redact } from './secrets.ts'

export type Cell = string | number | boolean | undefined | null
export interface Table {
  title: string
  headers: string[]
  rows: Cell[][]
}

export class Report {
  readonly startedAt = new Date()
  status: 'planned' | 'succeeded' | 'failed' | 'unchanged' = 'succeeded'
  readonly outputs: Record<string, string> = {}
  readonly data: Record<string, unknown> = {}
  readonly tables: Table[] = []
  private readonly notes: string[] = []
  error?: string

  readonly action: string
  constructor(action: string) {
    this.action = action
  }

  output(name: string, value: string | number | boolean): void {
    const v = String(value)
    if (containsSecret(v)) throw new ActionError(`output '${name}' would contain a secret; not set`)
    this.outputs[name] = v
    core.setOutput(name, v)
  }

  set(key: string, value: unknown): void {
    this.data[key] = value
  }

  table(title: string, headers: string[], rows: Cell[][]): void {
    this.tables.push({ title, headers, rows })
  }

  /** A paragraph of Markdown for the summary (also kept in the JSON report). */
  note(markdown: string): void {
    this.notes.push(markdown)
  }

  markdown(): string {
    const icon = { planned: '📝', succeeded: '✅', failed: '❌', unchanged: '✔️' }[this.status]
    const parts = [`## ${icon} ${this.action}: ${this.status}`]
    if (this.error) parts.push('```\n' + this.error + '\n```')
    parts.push(...this.notes)
    for (const t of this.tables) parts.push(renderTable(t))
    return redact(parts.join('\n\n') + '\n')
  }

  /** Writes the summary and the JSON report; sets output report-path. Never throws. */
  async finish(): Promise<string | undefined> {
    try {
      const dir = join(process.env.RUNNER_TEMP || tmpdir(), 'mr-actions')
      mkdirSync(dir, { recursive: true })
      const path = join(dir, `${this.action}-${Date.now()}.json`)
      const body = {
        action: this.action,
        status: this.status,
        error: this.error,
        startedAt: this.startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        outputs: this.outputs,
        data: this.data,
        tables: this.tables
      }
      writeFileSync(path, redact(JSON.stringify(body, null, 2)) + '\n')
      core.setOutput('report-path', path)
      if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(this.markdown()).write()
      return path
    } catch (e) {
      core.warning(`could not write the report: ${e instanceof Error ? e.message : e}`)
      return undefined
    }
  }
}

const esc = (c: Cell): string => (c === undefined || c === null ? '' : String(c).replace(/\|/g, '\\|').replace(/\n/g, '<br>'))

export function renderTable(t: Table): string {
  const head = `| ${t.headers.join(' | ')} |\n| ${t.headers.map(() => '---').join(' | ')} |`
  const body = t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`).join('\n')
  return `### ${t.title}\n\n${head}\n${body}`
}

/** The same table as aligned plain text, for the log. */
export function textTable(headers: string[], rows: Cell[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === undefined || c === null ? '' : String(c))))]
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  return cells.map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd()).join('\n')
}
