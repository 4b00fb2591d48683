// Long-lived sandbox processes: started detached (they outlive `sandbox up` and jest's global
// setup), recorded in pid files, recognised again by a marker in their command line (so a pid
// reused by an unrelated process is never killed), stopped with SIGTERM then SIGKILL.
import { spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** True when pid runs and its command line contains marker (guards against reused pids). */
export function pidHasMarker(pid: number, marker: string): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()?.[0]
    if (state === 'Z' || state === 'X') return false
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(marker)
  } catch {
    return false
  }
}

export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined
  const pid = Number(readFileSync(pidFile, 'utf8').trim())
  return Number.isInteger(pid) && pid > 1 ? pid : undefined
}

/** The live process recorded in pidFile whose command line has marker, if any. */
export function livePid(pidFile: string, marker: string): number | undefined {
  const pid = readPid(pidFile)
  return pid !== undefined && pidHasMarker(pid, marker) ? pid : undefined
}

export interface DetachedOptions {
  logFile: string
  pidFile: string
  env?: NodeJS.ProcessEnv
  cwd?: string
}

/** Starts cmd detached in its own process group, output appended to logFile; returns the pid. */
export function spawnDetached(cmd: string, args: string[], o: DetachedOptions): number {
  const fd = openSync(o.logFile, 'a')
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env: o.env ?? process.env, cwd: o.cwd })
    if (child.pid === undefined) throw new Error(`could not start ${cmd}`)
    child.on('error', () => {})
    child.unref()
    writeFileSync(o.pidFile, `${child.pid}\n`)
    return child.pid
  } finally {
    closeSync(fd)
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * SIGTERM, then SIGKILL after graceMs (or as soon as `finished()` says the process has done its
 * shutdown work, for a JVM whose last threads linger); resolves when the process is gone.
 */
export async function stopPid(pid: number, marker: string, graceMs = 20000, finished?: () => boolean): Promise<void> {
  if (!pidHasMarker(pid, marker)) return
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(pid, sig)
    } catch {
      /* already gone */
    }
  }
  signal('SIGTERM')
  const until = Date.now() + graceMs
  while (pidHasMarker(pid, marker) && Date.now() < until && !finished?.()) await sleep(100)
  if (pidHasMarker(pid, marker)) {
    signal('SIGKILL')
    while (pidHasMarker(pid, marker)) await sleep(50)
  }
  // An exiting JVM drops its command line before its threads are gone: wait until it has
  // really exited (a zombie counts: it holds no port and no memory), at most 10 s.
  for (const until2 = Date.now() + 10000; !exited(pid) && Date.now() < until2; ) await sleep(50)
}

/** True when pid no longer runs: no such process, or only its zombie entry is left. */
export function exited(pid: number): boolean {
  try {
    return /^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true
  }
}

export async function stopPidFile(pidFile: string, marker: string, graceMs?: number): Promise<void> {
  const pid = readPid(pidFile)
  if (pid !== undefined) await stopPid(pid, marker, graceMs)
  rmSync(pidFile, { force: true })
}

/** Resolves true when host:port accepts a TCP connection. */
export function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port })
    const done = (ok: boolean): void => {
      s.destroy()
      resolve(ok)
    }
    s.setTimeout(timeoutMs, () => done(false))
    s.once('connect', () => done(true))
    s.once('error', () => done(false))
  })
}

/** Resident set size (bytes) of pid, from /proc; 0 when gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : 0
  } catch {
    return 0
  }
}
