// Every external command goes through here: echoed so an operator can replay it, secrets only
// through stdin or env (never argv, which any process on the host can read), output redacted.
import * as core from '@actions/core'
import * as actionsExec from '@actions/exec'
import { ActionError } from './errors.ts'
import { containsSecret, redact } from './secrets.ts'

export interface RunOptions {
  /** Written to the command's stdin (the way to hand it a password). */
  stdin?: string
  /** Extra environment; values may be secrets (they are never echoed). */
  env?: Record<string, string>
  /** Return non-zero exits instead of throwing. */
  allowFailure?: boolean
  /** Print the command's output to the log (redacted). Off by default: most output is parsed. */
  echoOutput?: boolean
  /** Do not echo the command line itself (for tight polling loops). */
  quiet?: boolean
  /** Kill the command after this long (coreutils `timeout`, so the echoed line replays as-is). */
  timeoutMs?: number
  cwd?: string
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
  command: string
}

export function shellQuote(args: string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ')
}

export class CommandError extends ActionError {
  readonly result: RunResult
  constructor(result: RunResult) {
    const err = redact((result.stderr || result.stdout).trim()).split('\n').slice(-15).join('\n')
    const why = result.code === 124 ? 'timed out' : `exit ${result.code}`
    super(`command failed (${why}): ${result.command}${err ? `\n${err}` : ''}`)
    this.result = result
  }
}

export async function run(cmd: string, args: string[], o: RunOptions = {}): Promise<RunResult> {
  if (args.some(containsSecret) || containsSecret(cmd)) {
    // A programming error, but one that must never leak: refuse before starting the process.
    throw new ActionError(`refusing to run ${cmd}: a secret value is in its arguments`, 'pass it through stdin, env or a 0600 file')
  }
  let argv = [cmd, ...args]
  if (o.timeoutMs) argv = ['timeout', '-k', '5', String(Math.ceil(o.timeoutMs / 1000)), ...argv]
  const command = shellQuote(argv)
  if (!o.quiet) core.info(`$ ${command}`)
  const res = await actionsExec.getExecOutput(argv[0], argv.slice(1), {
    input: o.stdin !== undefined ? Buffer.from(o.stdin) : undefined,
    env: o.env ? ({ ...process.env, ...o.env } as Record<string, string>) : undefined,
    cwd: o.cwd,
    silent: true,
    ignoreReturnCode: true
  })
  const result: RunResult = { code: res.exitCode, stdout: res.stdout, stderr: res.stderr, command }
  if (o.echoOutput) {
    const text = redact(`${res.stdout}${res.stderr}`).trimEnd()
    if (text) core.info(text)
  }
  if (res.exitCode !== 0 && !o.allowFailure) throw new CommandError(result)
  return result
}
