// cqlsh inside a Cassandra pod through `kubectl exec -i`. One cqlsh process per session: the
// statements go in on stdin after the credentials, become a file in a private temp dir in the
// pod and run with `cqlsh -f` (one statement per line, so cqlsh's `file:LINE:` error prefixes
// name the statement). Credentials become a 0600 cqlsh credentials file ([plain_text_auth],
// the format cqlsh 6.x reads with --credentials); they never reach argv.
import { ActionError } from '../errors.ts'
import type { RunResult } from '../exec.ts'
import { redact, registerSecret } from '../secrets.ts'
import { secretShell, secretStdin } from '../kube/podshell.ts'
import { DRIVER_MARK, driverLines } from './cql-driver.ts'
import type { CassandraPods, Credentials } from './nodetool.ts'

export interface CqlshOptions {
  bin?: string
  /** Host and port to connect to from inside the pod; empty = cqlsh's default ($CQLSH_HOST or 127.0.0.1). */
  host?: string
  port?: number
  ssl?: boolean
  requestTimeoutS?: number
  connectTimeoutS?: number
}

export interface StatementError {
  /** 0-based index into the statements of the session */
  index: number
  statement: string
  message: string
}

export interface SessionResult {
  result: RunResult
  errors: StatementError[]
  /** what ran the statements: cqlsh's driver directly, or cqlsh -f */
  via: 'driver' | 'cqlsh'
}

export class CqlError extends ActionError {
  readonly errors: StatementError[]
  readonly result: RunResult
  constructor(pod: string, errors: StatementError[], result: RunResult) {
    const lines = errors.length
      ? errors.map((e) => `  ${e.statement}\n    -> ${e.message}`).join('\n')
      : redact(`${result.stderr}\n${result.stdout}`).trim().split('\n').slice(-8).join('\n')
    super(`cqlsh in pod ${pod} failed (exit ${result.code}):\n${lines}`, cqlHint(lines))
    this.errors = errors
    this.result = result
  }
}

/** Cassandra refused the login (wrong password, or a node whose system_auth lacks the role). */
const AUTH_FAILED = /AuthenticationFailed|Provided username .* incorrect|Bad credentials/i

export const isAuthFailure = (e: unknown): boolean => e instanceof CqlError && AUTH_FAILED.test(e.message)

function cqlHint(text: string): string | undefined {
  if (AUTH_FAILED.test(text)) return "check ddl.user / ddl.password in the credentials secret (or the ddl-* inputs); if they are right, that node's datacenter has no roles yet (its system_auth was never rebuilt): run from a region whose datacenter holds the data"
  if (/Unrecognized strategy option/i.test(text)) return 'that datacenter has no live node in the ring: install the new region first, or check the datacenter name'
  if (/not in normal state/i.test(text)) return 'a node is joining, leaving or moving: wait until `nodetool status` shows every node UN'
  if (/Unable to connect|NoHostAvailable|Connection refused/i.test(text)) return 'cqlsh cannot reach Cassandra from inside the pod: check cqlsh-host / cqlsh-ssl'
  return undefined
}

export class Cqlsh {
  readonly pods: CassandraPods
  readonly creds?: Credentials
  readonly o: CqlshOptions
  constructor(pods: CassandraPods, creds?: Credentials, o: CqlshOptions = {}) {
    this.pods = pods
    this.creds = creds
    this.o = o
    if (creds) registerSecret(creds.password)
  }

  /** cqlsh's own argv (after the credentials file): never anything secret. */
  argv(): string[] {
    const a: string[] = ['--no-color']
    if (this.o.ssl) a.push('--ssl')
    if (this.o.requestTimeoutS) a.push('--request-timeout', String(this.o.requestTimeoutS))
    if (this.o.connectTimeoutS) a.push('--connect-timeout', String(this.o.connectTimeoutS))
    if (this.o.host) a.push(this.o.host)
    if (this.o.host && this.o.port) a.push(String(this.o.port))
    return a
  }

  /**
   * The pod script and its stdin: the statements become "$d/in.cql" (one per line) and run in one
   * session, through `cqlsh -f`, or with `driver` through cqlsh's own driver without a schema
   * agreement wait per statement (see cql-driver.ts; it falls back to `cqlsh -f` by itself),
   * at most `ratePerS` statements a second when set.
   */
  script(statements: string[], o: { driver?: boolean; ratePerS?: number } = {}): { script: string; stdin: string } {
    const bin = this.o.bin ?? 'cqlsh'
    const body = statements.map(oneLine).join('\n') + '\n'
    const creds = this.creds ? `printf '[plain_text_auth]\\nusername = %s\\npassword = %s\\n' "$U" "$P" > "$d/credentials"` : ''
    const credArg = this.creds ? '--credentials "$d/credentials" ' : ''
    const run = o.driver ? driverLines(bin, credArg, o.ratePerS) : [`${bin} ${credArg}-f "$d/in.cql" "$@"`]
    const script = secretShell(this.creds ? ['U', 'P'] : [], [creds, 'cat > "$d/in.cql"', ...run].filter(Boolean).join('\n'))
    return { script, stdin: this.creds ? secretStdin([this.creds.user, this.creds.password], body) : body }
  }

  /** Runs the statements in one exec and one session; errors are attributed to their statement. */
  async session(pod: string, statements: string[], o: { timeoutMs?: number; allowFailure?: boolean; quiet?: boolean; driver?: boolean; ratePerS?: number } = {}): Promise<SessionResult> {
    const { script, stdin } = this.script(statements, { driver: o.driver, ratePerS: o.ratePerS })
    const result = await this.pods.kube.exec(this.pods.namespace, pod, ['sh', '-c', script, 'sh', ...this.argv()], {
      container: this.pods.container,
      stdin,
      timeoutMs: o.timeoutMs,
      allowFailure: true,
      quiet: o.quiet
    })
    const errors = statementErrors(result.stderr, statements)
    if ((result.code !== 0 || errors.length) && !o.allowFailure) throw new CqlError(pod, errors, result)
    const via = result.stdout.includes(DRIVER_MARK) ? 'driver' : 'cqlsh'
    return { result, errors, via }
  }

  /** A SELECT JSON query; returns the parsed rows. */
  async selectJson<T = Record<string, unknown>>(pod: string, query: string, o: { timeoutMs?: number; quiet?: boolean } = {}): Promise<T[]> {
    if (!/^\s*SELECT\s+JSON\s/i.test(query)) throw new Error(`selectJson needs a SELECT JSON query, got: ${query}`)
    const { result } = await this.session(pod, [query], o)
    return parseJsonRows<T>(result.stdout)
  }
}

function oneLine(statement: string): string {
  const s = statement.trim().replace(/\s*\n\s*/g, ' ')
  return s.endsWith(';') ? s : `${s};`
}

/**
 * cqlsh -f prints errors as `FILE:N:message` where N is one past the statement's last line (its
 * line counter starts at 1 and is bumped after each line read); one statement per line, so the
 * statement is number N-1, index N-2.
 */
export function statementErrors(stderr: string, statements: string[]): StatementError[] {
  const out: StatementError[] = []
  for (const line of stderr.split('\n')) {
    const m = /^\S*in\.cql:(\d+):(.*)$/.exec(line.trim())
    if (!m) continue
    const index = Number(m[1]) - 2
    out.push({ index, statement: statements[index] ?? `(statement ${index + 1})`, message: redact(m[2].trim()) })
  }
  return out
}

/**
 * Rows of a SELECT JSON printed by cqlsh: each row is one line ` {...}` under the `[json]`
 * header. cqlsh doubles backslashes in text values when printing without colour; undone here.
 */
export function parseJsonRows<T = Record<string, unknown>>(stdout: string): T[] {
  const rows: T[] = []
  for (const line of stdout.split('\n')) {
    const t = line.trim()
    if (!t.startsWith('{')) continue
    try {
      rows.push(JSON.parse(t.replace(/\\\\/g, '\\')) as T)
    } catch {
      throw new ActionError(`cqlsh printed a row that is not JSON: ${t.slice(0, 200)}`)
    }
  }
  const m = /\((\d+) rows?\)/.exec(stdout)
  if (m && Number(m[1]) !== rows.length) {
    throw new ActionError(`cqlsh reported ${m[1]} rows but ${rows.length} could be read as JSON`)
  }
  return rows
}

// ---- CQL quoting --------------------------------------------------------------------------

/** A CQL identifier, always double-quoted (exact case; embedded " doubled). */
export function cqlIdent(name: string): string {
  if (name === '' || /[\0\r\n]/.test(name)) throw new ActionError(`'${name}' cannot be a CQL identifier`)
  return `"${name.replace(/"/g, '""')}"`
}

/** A CQL string literal ('' doubles an embedded quote). */
export function cqlString(value: string): string {
  if (/[\0\r\n]/.test(value)) throw new ActionError(`a CQL string literal cannot contain a line break: ${JSON.stringify(value)}`)
  return `'${value.replace(/'/g, "''")}'`
}
