// The client side of the world: start it (a daemon running `sandbox/cli.ts serve`, see world.ts),
// find it, talk to its control API, stop it; and jest's global setup / teardown on top.
import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { CassandraCluster, DEFAULT_RUN_DIR, PROJECT_ROOT } from './cassandra/cluster.ts'
import { alive, pidHasMarker, readPid, stopPidFile } from './cassandra/proc.ts'
import type { WorldAksRecord, WorldAksState } from './world-aks.ts'
import { InstallError, readWorldState, worldFile, type RegionState, type WorldOptions, type WorldState } from './world-state.ts'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

function daemonMarker(runDir: string): string {
  return `--sandbox-world=${runDir}`
}

function daemonAlive(s: WorldState): boolean {
  return pidHasMarker(s.pid, daemonMarker(s.runDir))
}

// =============================================================================================
// The client side: up / status / down / installRegion from any process.
// =============================================================================================

export class WorldClient {
  readonly state: WorldState
  constructor(state: WorldState) {
    this.state = state
  }

  call<T>(path: string, body?: unknown, timeoutMs = 600000): Promise<T> {
    const url = new URL(path, this.state.controlUrl)
    return new Promise((resolve, reject) => {
      const req = request(url, { method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${this.state.controlToken}`, 'content-type': 'application/json' }, timeout: timeoutMs }, (res) => {
        let text = ''
        res.on('data', (c) => (text += c))
        res.on('end', () => {
          const parsed = text ? JSON.parse(text) : {}
          if (res.statusCode === 200) resolve(parsed as T)
          else reject(new InstallError(parsed.error ?? `control API ${path}: HTTP ${res.statusCode}`))
        })
      })
      req.on('timeout', () => req.destroy(new Error(`control API ${path} timed out`)))
      req.on('error', reject)
      req.end(body === undefined ? undefined : JSON.stringify(body))
    })
  }

  get cassandra(): CassandraCluster {
    return new CassandraCluster({ runDir: this.state.runDir, clusterName: this.state.clusterName, addressBase: this.state.addressBase, version: this.state.cassandraVersion })
  }

  region(name: string): RegionState {
    const r = this.state.regions.find((x) => x.name === name || x.context === name || x.role === name || x.datacenter === name)
    if (!r) throw new InstallError(`no region '${name}'`)
    return r
  }

  async refresh(): Promise<WorldState> {
    const s = await this.call<WorldState>('/status')
    Object.assign(this.state, s)
    return s
  }

  /** AKS mode: sets the Entra token lifetime, the GitHub ID token lifetime and/or the subject of the next GitHub ID tokens. */
  async tuneAks(o: { tokenLifetimeSec?: number; idTokenLifetimeSec?: number; idTokenSubject?: string }): Promise<WorldAksState> {
    const s = await this.call<WorldAksState>('/aks', o)
    await this.refresh()
    return s
  }

  /** AKS mode: what the doubles saw (tokens issued, every Kubernetes request with its credential). */
  aksRecord(): Promise<WorldAksRecord> {
    return this.call<WorldAksRecord>('/aks/record')
  }

  /** The hybrid runtime install for a region (name, context or 'target'), from its overrides file. */
  async installRegion(region: string, overrides?: string): Promise<RegionState> {
    const r = await this.call<RegionState>('/install-region', { region, overrides })
    await this.refresh()
    return r
  }
}

/** The running world of runDir, if any (daemon alive and ready). */
export function connectWorld(runDir = DEFAULT_RUN_DIR): WorldClient | undefined {
  const s = readWorldState(runDir)
  if (!s || !daemonAlive(s) || s.status !== 'ready') return undefined
  return new WorldClient(s)
}

/** Stops what a crashed earlier run left: its daemon, its Cassandra nodes, its state file. */
export async function cleanupStale(runDir = DEFAULT_RUN_DIR): Promise<string[]> {
  const done: string[] = []
  const s = readWorldState(runDir)
  const daemonPid = readPid(join(runDir, 'world.pid'))
  if (daemonPid !== undefined && pidHasMarker(daemonPid, daemonMarker(runDir))) {
    try {
      process.kill(daemonPid, 'SIGKILL')
    } catch {
      /* gone */
    }
    done.push(`killed world daemon ${daemonPid}`)
  }
  const c = new CassandraCluster({ runDir, clusterName: s?.clusterName, addressBase: s?.addressBase, version: s?.cassandraVersion })
  for (const n of c.nodes()) {
    const pid = c.pid(n.name)
    if (pid !== undefined) done.push(`stopped Cassandra ${n.name} (pid ${pid})`)
  }
  await c.stopAll(5000)
  rmSync(worldFile(runDir), { force: true })
  rmSync(join(runDir, 'world.pid'), { force: true })
  return done
}

export interface UpResult {
  client: WorldClient
  reused: boolean
  cleaned: string[]
  ms: number
}

/**
 * Starts the world daemon (or returns the running world) and waits until it is ready. A world
 * left by a crashed run is cleaned up first; the run dir's Cassandra data is started afresh.
 */
export async function up(o: WorldOptions & { timeoutMs?: number; log?: (line: string) => void } = {}): Promise<UpResult> {
  const runDir = o.runDir ?? DEFAULT_RUN_DIR
  // one `up` per run dir at a time (two test files, or a test and the CLI): the second reuses
  const release = await lockFile(`${runDir}.up.lock`, o.timeoutMs ?? 420000)
  try {
    return await upLocked(runDir, o)
  } finally {
    release()
  }
}

/** An exclusive lock file holding our pid; a lock whose holder died is taken over. */
async function lockFile(path: string, timeoutMs: number): Promise<() => void> {
  mkdirSync(join(path, '..'), { recursive: true })
  const until = Date.now() + timeoutMs
  for (;;) {
    try {
      const fd = openSync(path, 'wx')
      writeFileSync(fd, `${process.pid}\n`)
      closeSync(fd)
      return () => rmSync(path, { force: true })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      const holder = readPid(path)
      if (holder === undefined || !alive(holder)) {
        rmSync(path, { force: true })
        continue
      }
      if (Date.now() > until) throw new InstallError(`another process (pid ${holder}) is starting the sandbox world (${path})`)
      await sleep(500)
    }
  }
}

async function upLocked(runDir: string, o: WorldOptions & { timeoutMs?: number; log?: (line: string) => void }): Promise<UpResult> {
  const t0 = Date.now()
  const running = connectWorld(runDir)
  if (running) return { client: running, reused: true, cleaned: [], ms: 0 }
  const cleaned = await cleanupStale(runDir)
  // fresh data: a world always starts from a known state
  rmSync(runDir, { recursive: true, force: true })
  mkdirSync(runDir, { recursive: true })
  const logFile = join(runDir, 'world.log')
  const fd = openSync(logFile, 'a')
  const args = [join(PROJECT_ROOT, 'sandbox', 'cli.ts'), 'serve', daemonMarker(runDir), '--options', JSON.stringify({ ...o, runDir, log: undefined, timeoutMs: undefined })]
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd], cwd: PROJECT_ROOT, env: process.env })
  closeSync(fd)
  child.unref()
  writeFileSync(join(runDir, 'world.pid'), `${child.pid}\n`)
  const until = Date.now() + (o.timeoutMs ?? 420000)
  let last = ''
  for (;;) {
    await sleep(500)
    const s = readWorldState(runDir)
    if (s && s.status !== last) {
      last = s.status
      o.log?.(`world: ${s.status}`)
    }
    if (s?.status === 'ready') return { client: new WorldClient(s), reused: false, cleaned, ms: Date.now() - t0 }
    const dead = child.pid === undefined || !alive(child.pid) || !pidHasMarker(child.pid, daemonMarker(runDir))
    if (s?.status === 'failed' || dead || Date.now() > until) {
      const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n') : ''
      await down(runDir).catch(() => {})
      throw new InstallError(`sandbox world did not come up (${s?.error ?? (dead ? 'daemon exited' : 'timed out')}):\n${tail}`)
    }
  }
}

/** Stops the world of runDir: daemon (which stops nodes and servers), then anything left. */
export async function down(runDir = DEFAULT_RUN_DIR): Promise<string[]> {
  const s = readWorldState(runDir)
  const done: string[] = []
  if (s && daemonAlive(s)) {
    await new WorldClient(s).call('/down', {}).catch(() => {})
    const until = Date.now() + 30000
    while (daemonAlive(s) && Date.now() < until) await sleep(200)
    done.push(`world daemon ${s.pid} stopped`)
  }
  await stopPidFile(join(runDir, 'world.pid'), daemonMarker(runDir), 3000)
  done.push(...(await cleanupStale(runDir)))
  return done
}

// ---- jest global setup / teardown -----------------------------------------------------------
// jest.config.js: globalSetup / globalTeardown pointing at a two-line module that calls these.
// Setup brings the world up in the default run dir (reusing one started by `sandbox up`);
// teardown stops it only when setup started it. SANDBOX=off skips both.

const OWNED_MARK = join(DEFAULT_RUN_DIR, '..', 'jest-owned-world')

export async function jestGlobalSetup(): Promise<void> {
  if (process.env.SANDBOX === 'off') return
  const r = await up({ log: () => {} })
  if (!r.reused) writeFileSync(OWNED_MARK, `${process.pid}\n`)
  const s = r.client.state
  process.stdout.write(`\nsandbox world ${r.reused ? 'reused' : `up in ${(r.ms / 1000).toFixed(1)}s`}: source nodes UN at ${((s.timings.sourceUnMs ?? 0) / 1000).toFixed(1)}s, peak Cassandra RSS ${s.peakRssMiB} MiB\n`)
}

export async function jestGlobalTeardown(): Promise<void> {
  if (process.env.SANDBOX === 'off' || !existsSync(OWNED_MARK)) return
  rmSync(OWNED_MARK, { force: true })
  const s = readWorldState()
  if (s) process.stdout.write(`\nsandbox peak Cassandra RSS ${s.peakRssMiB} MiB; stopping the world\n`)
  await down()
}
