// The default exec handler for the world: runs argv as a local child process (no shell), with the
// given environment and working directory, wiring stdin/stdout/stderr and the exit code through.
import { spawn } from 'node:child_process'
import type { ExecHandler, ExecRequest } from './types.ts'

export interface LocalExecOptions {
  /** environment of the process (default: this process's environment) */
  env?: NodeJS.ProcessEnv
  /** extra variables on top of env */
  extraEnv?: Record<string, string>
  cwd?: string
  /** rewrite the command before it runs, e.g. map `nodetool` onto the node's own launcher */
  argv?: (argv: string[], req: ExecRequest) => string[]
  /** signal sent when the client goes away, default SIGTERM (SIGKILL 5 s later) */
  killSignal?: NodeJS.Signals
}

/** Exit codes as a container runtime reports them: 126 not executable, 127 not found, 128+n signal. */
export function localProcessExec(opts: LocalExecOptions = {}): ExecHandler {
  return (req) =>
    new Promise<number>((resolve) => {
      const argv = opts.argv ? opts.argv(req.argv, req) : req.argv
      if (argv.length === 0) {
        req.stderr.write('error: no command given\n')
        resolve(126)
        return
      }
      const env = { ...(opts.env ?? process.env), ...(opts.extraEnv ?? {}) }
      const child = spawn(argv[0], argv.slice(1), { env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
      let settled = false
      const finish = (code: number): void => {
        if (settled) return
        settled = true
        clearTimeout(killTimer)
        req.signal.removeEventListener('abort', onAbort)
        resolve(code)
      }
      let killTimer: NodeJS.Timeout | undefined
      const onAbort = (): void => {
        child.kill(opts.killSignal ?? 'SIGTERM')
        killTimer = setTimeout(() => child.kill('SIGKILL'), 5000)
        killTimer.unref()
      }
      if (req.signal.aborted) onAbort()
      else req.signal.addEventListener('abort', onAbort, { once: true })
      child.on('error', (err: NodeJS.ErrnoException) => {
        const notFound = err.code === 'ENOENT'
        req.stderr.write(
          notFound
            ? `OCI runtime exec failed: exec failed: unable to start container process: exec: "${argv[0]}": executable file not found in $PATH: unknown\n`
            : `OCI runtime exec failed: ${err.message}\n`
        )
        finish(notFound ? 127 : 126)
      })
      child.stdout.pipe(req.stdout, { end: false })
      child.stderr.pipe(req.stderr, { end: false })
      child.stdin.on('error', () => {}) // the command may exit without reading its stdin
      if (req.stdin) req.stdin.pipe(child.stdin)
      else child.stdin.end()
      // 'close' fires after stdout/stderr are drained, so nothing is lost before the exit status.
      child.on('close', (code, signal) => {
        if (req.stdin) req.stdin.unpipe(child.stdin)
        finish(code ?? (signal ? 128 + signalNumber(signal) : 1))
      })
    })
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15, SIGPIPE: 13 }
  return numbers[signal] ?? 1
}
