// Real Apache Cassandra nodes for the sandbox: JVMs on 127.0.<dc>.<n>, one state folder per node
// under a run dir, generated config, password authentication and per-node authenticated JMX.
// The credentials are generated once per run dir and kept in 0600 files; tools get them through
// files (nodetool -pwf, cqlsh --credentials), never argv.
//
//   const c = new CassandraCluster({ runDir })
//   const specs = c.dcSpecs('dc-1', 2)              // 127.0.1.1, 127.0.1.2
//   await c.start(specs); await c.waitUp(specs)    // all UN
//   await c.bootstrapAuth('dc-1')                  // ddl user, non-default superuser password
//   await c.nodetool(specs[0].name, ['status'])     // real nodetool over JMX
//   await c.cql(specs[0].name, ['SELECT ...'])      // real cqlsh as the DDL user
//   await c.stopAll()
import { execFile, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cassandraYaml, jvmArgs, logbackXml, NATIVE_PORT, nodePaths, rackdcProperties, type NodePaths, type NodeSpec } from './config.ts'
import { livePid, portOpen, rssBytes, spawnDetached, stopPid } from './proc.ts'
import { ringMembers, upNormal, type RingMember } from './ring.ts'
import { cassandraRuntime, type CassandraRuntime } from './version.ts'

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const CACHE_DIR = join(PROJECT_ROOT, '.cache')
export const DEFAULT_RUN_DIR = join(CACHE_DIR, 'sandbox', 'run')

export interface ToolResult {
  code: number
  stdout: string
  stderr: string
}

export interface Credentials {
  jmxUser: string
  jmxPassword: string
  ddlUser: string
  ddlPassword: string
  /** the built-in `cassandra` superuser, whose default password the sandbox replaces */
  superuserPassword: string
}

export interface ClusterOptions {
  runDir?: string
  clusterName?: string
  heapMb?: number
  libDir?: string
  binDir?: string
  /** second octet of the node addresses (0-40): lets a test cluster run beside the world */
  addressBase?: number
  /** Cassandra version or line (default: CASSANDRA_VERSION, else the sandbox's default) */
  version?: string
  /**
   * TLS on (internode and client): the CA (PEM certificate and key) that issues a node's
   * certificate when it starts, as cert-manager issues a pod's from its cluster's apigee-ca.
   */
  caFor?: (spec: NodeSpec) => { crt: string; key: string } | undefined
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export class CassandraError extends Error {}

/** A node that cannot join the ring because its TLS handshakes with the others fail. */
export class JoinError extends CassandraError {
  readonly node: string
  readonly logLine: string
  constructor(node: string, logLine: string) {
    super(`Cassandra node ${node} cannot join the ring; its log says: ${logLine.trim()}`)
    this.node = node
    this.logLine = logLine
  }
}

/** `dc-2` -> 2; the DC number picks the address block 127.0.<n>.x. */
export function dcNumber(dc: string): number {
  const m = /(\d+)$/.exec(dc)
  const n = m ? Number(m[1]) : NaN
  if (!Number.isInteger(n) || n < 1 || n > 250) throw new CassandraError(`datacenter '${dc}' must end in a number 1-250 (e.g. dc-1)`)
  return n
}

/** Node address 127.<base>.<dc number>.<index+1>; base 0 is the world's, tests may pick another. */
export function nodeAddress(dc: string, index: number, base = 0): string {
  return `127.${base}.${dcNumber(dc)}.${index + 1}`
}

/** JMX port (on 127.0.0.1) of a node: distinct per base, datacenter and index. */
export function jmxPortFor(dc: string, index: number, base = 0): number {
  return 17000 + base * 1000 + dcNumber(dc) * 100 + index
}

function genPassword(): string {
  return randomBytes(18).toString('base64url')
}

export class CassandraCluster {
  readonly runDir: string
  readonly clusterName: string
  readonly heapMb: number
  readonly libDir: string
  readonly binDir: string
  readonly secretsDir: string
  readonly addressBase: number
  readonly runtime: CassandraRuntime
  private readonly caFor?: ClusterOptions['caFor']

  constructor(o: ClusterOptions = {}) {
    this.runtime = cassandraRuntime(o.version)
    this.caFor = o.caFor
    this.addressBase = o.addressBase ?? 0
    if (!Number.isInteger(this.addressBase) || this.addressBase < 0 || this.addressBase > 40) throw new CassandraError(`addressBase must be 0-40, got ${o.addressBase}`)
    this.runDir = o.runDir ?? DEFAULT_RUN_DIR
    this.clusterName = o.clusterName ?? 'apigeecluster'
    this.heapMb = o.heapMb ?? Number(process.env.SANDBOX_CASSANDRA_HEAP_MB ?? 640)
    this.libDir = o.libDir ?? this.runtime.libDir
    this.binDir = o.binDir ?? join(CACHE_DIR, 'bin')
    this.secretsDir = join(this.runDir, 'secrets')
  }

  // ---- credentials -------------------------------------------------------------------------

  private credsFile(): string {
    return join(this.secretsDir, 'credentials.json')
  }

  /** The run's credentials, generated on first use (files 0600 in a 0700 folder). */
  credentials(): Credentials {
    const f = this.credsFile()
    if (existsSync(f)) return JSON.parse(readFileSync(f, 'utf8')) as Credentials
    mkdirSync(this.secretsDir, { recursive: true, mode: 0o700 })
    chmodSync(this.secretsDir, 0o700)
    const c: Credentials = { jmxUser: 'jmxuser', jmxPassword: genPassword(), ddlUser: 'ddl_user', ddlPassword: genPassword(), superuserPassword: genPassword() }
    writeFileSync(f, JSON.stringify(c, null, 2) + '\n', { mode: 0o600 })
    this.writeToolSecrets(c)
    return c
  }

  private writeToolSecrets(c: Credentials): void {
    writeFileSync(join(this.secretsDir, 'jmx.pwf'), `${c.jmxUser} ${c.jmxPassword}\n`, { mode: 0o600 })
    writeFileSync(join(this.secretsDir, 'ddl.credentials'), `[plain_text_auth]\nusername = ${c.ddlUser}\npassword = ${c.ddlPassword}\n`, { mode: 0o600 })
    writeFileSync(join(this.secretsDir, 'default.credentials'), `[plain_text_auth]\nusername = cassandra\npassword = cassandra\n`, { mode: 0o600 })
    writeFileSync(join(this.secretsDir, 'superuser.credentials'), `[plain_text_auth]\nusername = cassandra\npassword = ${c.superuserPassword}\n`, { mode: 0o600 })
  }

  /** Path of a 0600 nodetool password file (`user password`). */
  jmxPasswordFile(): string {
    this.credentials()
    return join(this.secretsDir, 'jmx.pwf')
  }

  /** Path of a 0600 cqlsh credentials file for the DDL user (or the built-in superuser). */
  cqlCredentialsFile(who: 'ddl' | 'default' | 'superuser' = 'ddl'): string {
    this.credentials()
    return join(this.secretsDir, `${who}.credentials`)
  }

  // ---- node specs and state ----------------------------------------------------------------

  /** Specs for `count` nodes of a datacenter; seeds default to the DC's own first nodes. */
  dcSpecs(dc: string, count: number, o: { rack?: string; seeds?: string[]; autoBootstrap?: boolean; first?: number } = {}): NodeSpec[] {
    const first = o.first ?? 0
    const specs: NodeSpec[] = []
    for (let i = first; i < first + count; i++) {
      specs.push({
        name: `${dc}-${i}`,
        clusterName: this.clusterName,
        datacenter: dc,
        rack: o.rack ?? 'ra-1',
        address: nodeAddress(dc, i, this.addressBase),
        jmxPort: jmxPortFor(dc, i, this.addressBase),
        // all of a new DC's first nodes are seeds, so they can start at the same time
        seeds: o.seeds ?? Array.from({ length: count }, (_, k) => nodeAddress(dc, first + k, this.addressBase)),
        autoBootstrap: o.autoBootstrap ?? false,
        heapMb: this.heapMb,
        tls: this.caFor !== undefined
      })
    }
    return specs
  }

  paths(name: string): NodePaths {
    return nodePaths(this.runDir, name)
  }

  private specFile(name: string): string {
    return join(this.paths(name).dir, 'node.json')
  }

  /** Every node ever prepared in this run dir (running or not). */
  nodes(): NodeSpec[] {
    const dir = join(this.runDir, 'nodes')
    if (!existsSync(dir)) return []
    return readdirSync(dir)
      .filter((n) => existsSync(this.specFile(n)))
      .map((n) => JSON.parse(readFileSync(this.specFile(n), 'utf8')) as NodeSpec)
      .sort((a, b) => a.datacenter.localeCompare(b.datacenter) || a.address.localeCompare(b.address, undefined, { numeric: true }))
  }

  node(name: string): NodeSpec {
    const f = this.specFile(name)
    if (!existsSync(f)) throw new CassandraError(`no sandbox Cassandra node named ${name} in ${this.runDir}`)
    return JSON.parse(readFileSync(f, 'utf8')) as NodeSpec
  }

  /** Marker in the JVM's command line that identifies this node of this run dir. */
  marker(name: string): string {
    return `-Dsandbox.node=${name}`
  }

  pid(name: string): number | undefined {
    return livePid(this.paths(name).pid, this.marker(name))
  }

  running(name: string): boolean {
    return this.pid(name) !== undefined
  }

  /** Writes a node's config (idempotent; data is kept, config regenerated). */
  prepare(spec: NodeSpec): NodePaths {
    const c = this.credentials()
    const p = this.paths(spec.name)
    mkdirSync(p.conf, { recursive: true })
    mkdirSync(p.data, { recursive: true })
    writeFileSync(p.yaml, cassandraYaml(spec, p))
    writeFileSync(join(p.conf, 'cassandra-rackdc.properties'), rackdcProperties(spec))
    writeFileSync(join(p.conf, 'logback.xml'), logbackXml())
    // the JVM refuses a JMX password file that others can read
    rmSync(p.jmxPasswordFile, { force: true })
    writeFileSync(p.jmxPasswordFile, `${c.jmxUser} ${c.jmxPassword}\n`, { mode: 0o600 })
    writeFileSync(p.jmxAccessFile, `${c.jmxUser} readwrite\n`, { mode: 0o600 })
    writeFileSync(this.specFile(spec.name), JSON.stringify(spec, null, 2) + '\n')
    return p
  }

  // ---- TLS ---------------------------------------------------------------------------------

  /**
   * What cert-manager does for a Cassandra pod: a key and a certificate for the node's address,
   * signed by the region's CA (PEM from the apigee-ca secret), plus that CA as the trust store.
   * The node's home gets a cqlshrc that makes cqlsh (and drivers reading it) use TLS with that CA.
   */
  issueCertificate(spec: NodeSpec, ca: { crt: string; key: string }): void {
    const p = this.paths(spec.name)
    const work = join(p.dir, 'tls')
    mkdirSync(work, { recursive: true, mode: 0o700 })
    mkdirSync(p.conf, { recursive: true })
    const f = (n: string): string => join(work, n)
    writeFileSync(f('ca.crt'), ca.crt)
    writeFileSync(f('ca.key'), ca.key, { mode: 0o600 })
    writeFileSync(f('ext'), `subjectAltName=IP:${spec.address}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n`)
    const openssl = (args: string[]): void => void execFileSync('openssl', args, { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] })
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f('node.key')])
    openssl(['req', '-new', '-key', f('node.key'), '-subj', `/CN=${spec.name}`, '-out', f('node.csr')])
    openssl(['x509', '-req', '-in', f('node.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '30', '-extfile', f('ext'), '-out', f('node.crt')])
    rmSync(f('ca.key'), { force: true })
    writeFileSync(p.tlsKeystore, readFileSync(f('node.key'), 'utf8') + readFileSync(f('node.crt'), 'utf8'), { mode: 0o600 })
    writeFileSync(p.tlsTruststore, ca.crt)
    const home = this.homeDir(spec.name)
    mkdirSync(join(home, '.cassandra'), { recursive: true })
    writeFileSync(join(home, '.cassandra', 'cqlshrc'), `[connection]\nssl = true\n\n[ssl]\ncertfile = ${p.tlsTruststore}\nvalidate = true\n`, { mode: 0o600 })
  }

  /** The first TLS handshake failure a node logged since it last started, if any. */
  handshakeFailure(name: string): string | undefined {
    const log = this.paths(name).log
    if (!existsSync(log)) return undefined
    const text = readFileSync(log, 'utf8')
    const since = text.slice(text.lastIndexOf('--- sandbox: starting '))
    const handshake = /^.*SSLHandshakeException.*$/m.exec(since)
    if (!handshake) return undefined
    // the certificate check's own words (PKIX ...) say more than the engine's wrapper line
    const cause = /^.*(PKIX path|unable to find valid certification path|certificate_unknown|bad_certificate).*$/m.exec(since.slice(handshake.index))
    return (cause ?? handshake)[0].trim()
  }

  // ---- start / stop ------------------------------------------------------------------------

  /** Starts the nodes (already running ones are left alone); does not wait. */
  start(specs: NodeSpec[]): void {
    if (!existsSync(this.libDir) || !readdirSync(this.libDir).some((f) => f.startsWith('cassandra-all-'))) {
      throw new CassandraError(`Cassandra ${this.runtime.version} jars not found in ${this.libDir}: run npm run setup`)
    }
    for (const spec of specs) {
      if (this.running(spec.name)) continue
      if (spec.tls) {
        const ca = this.caFor?.(spec)
        if (!ca) throw new CassandraError(`no CA to issue the TLS certificate of ${spec.name} (${spec.datacenter}) from`)
        this.issueCertificate(spec, ca)
      }
      const p = this.prepare(spec)
      writeFileSync(p.log, `--- sandbox: starting ${spec.name} (${spec.datacenter}/${spec.rack}) on ${spec.address} at ${new Date().toISOString()}\n`, { flag: 'a' })
      spawnDetached(this.runtime.javaBin, jvmArgs(spec, p, this.libDir, this.runtime.java), { logFile: p.log, pidFile: p.pid, cwd: p.dir })
    }
  }

  /**
   * Waits until every node listens for CQL and the ring shows every running node UN, seen from the
   * first new node and from one node that already ran. Without auto_bootstrap a node skips the gossip
   * shadow round, so it can report itself UN before it has heard from its seeds.
   */
  async waitUp(specs: NodeSpec[], timeoutMs = 240000): Promise<RingMember[]> {
    const until = Date.now() + timeoutMs
    const pending = new Set(specs.map((s) => s.name))
    while (pending.size) {
      for (const name of [...pending]) {
        const s = this.node(name)
        if (!this.running(name)) {
          const failure = this.handshakeFailure(name)
          throw failure ? new JoinError(name, failure) : new CassandraError(`Cassandra node ${name} exited during start-up:\n${this.logTail(name, 25)}`)
        }
        if (await portOpen(s.address, NATIVE_PORT, 500)) pending.delete(name)
      }
      if (!pending.size) break
      if (Date.now() > until) throw new CassandraError(`timed out waiting for ${[...pending].join(', ')} to start:\n${this.logTail([...pending][0], 25)}`)
      await sleep(1000)
    }
    const running = this.nodes().filter((n) => this.running(n.name))
    const want = new Set([...specs, ...running].map((s) => s.address))
    const older = running.find((n) => !specs.some((s) => s.name === n.name))
    const viewers = older ? [specs[0].name, older.name] : [specs[0].name]
    for (;;) {
      // a node whose TLS handshakes fail never joins: say so with Cassandra's own words
      for (const spec of specs) {
        const failure = this.handshakeFailure(spec.name)
        if (failure) throw new JoinError(spec.name, failure)
      }
      let ring: RingMember[] | undefined
      let lag = ''
      for (const viewer of viewers) {
        const r = await this.nodetool(viewer, ['status'], { allowFailure: true })
        const un = r.code === 0 ? upNormal(r.stdout) : new Set<string>()
        if ([...want].some((a) => !un.has(a))) {
          lag = `as seen from ${viewer}; last status:\n${r.stdout}${r.stderr}`
          break
        }
        ring ??= ringMembers(r.stdout)
      }
      if (!lag && ring) return ring
      if (Date.now() > until) throw new CassandraError(`timed out waiting for ${[...want].join(', ')} to be UN ${lag}`)
      await sleep(1500)
    }
  }

  /** SIGTERM (Cassandra drains), SIGKILL once its log says the shutdown is complete or after graceMs. */
  async stop(name: string, graceMs = 20000): Promise<void> {
    const pid = this.pid(name)
    const log = this.paths(name).log
    const from = existsSync(log) ? statSync(log).size : 0
    const finished = (): boolean => {
      try {
        const fd = openSync(log, 'r')
        try {
          const buf = Buffer.alloc(Math.max(0, statSync(log).size - from))
          readSync(fd, buf, 0, buf.length, from)
          return buf.includes('Cassandra shutdown complete')
        } finally {
          closeSync(fd)
        }
      } catch {
        return false
      }
    }
    if (pid !== undefined) await stopPid(pid, this.marker(name), graceMs, finished)
    rmSync(this.paths(name).pid, { force: true })
  }

  /** Stops every node of the run dir (in parallel). */
  async stopAll(graceMs = 20000): Promise<void> {
    await Promise.all(this.nodes().map((n) => this.stop(n.name, graceMs)))
  }

  /** Stops everything and deletes the run dir's nodes and credentials. */
  async destroy(): Promise<void> {
    await this.stopAll(5000)
    rmSync(join(this.runDir, 'nodes'), { recursive: true, force: true })
    rmSync(this.secretsDir, { recursive: true, force: true })
    rmSync(join(this.runDir, 'cluster.json'), { force: true })
  }

  logTail(name: string, lines = 40): string {
    const f = this.paths(name).log
    if (!existsSync(f)) return ''
    return readFileSync(f, 'utf8').split('\n').slice(-lines - 1).join('\n')
  }

  /** RSS of the running nodes, bytes. */
  rss(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const n of this.nodes()) {
      const pid = this.pid(n.name)
      if (pid !== undefined) out[n.name] = rssBytes(pid)
    }
    return out
  }

  // ---- cluster-level state -----------------------------------------------------------------

  private stateFile(): string {
    return join(this.runDir, 'cluster.json')
  }

  state(): { authBootstrapped?: boolean; seeded?: { org: string; rowsPerTable: number; dc: string } } {
    return existsSync(this.stateFile()) ? JSON.parse(readFileSync(this.stateFile(), 'utf8')) : {}
  }

  setState(patch: Record<string, unknown>): void {
    mkdirSync(this.runDir, { recursive: true })
    writeFileSync(this.stateFile(), JSON.stringify({ ...this.state(), ...patch }, null, 2) + '\n')
  }

  // ---- tools -------------------------------------------------------------------------------

  /** Environment that points nodetool/cqlsh at a node (as running them "inside its pod" does). */
  nodeEnv(name: string): Record<string, string> {
    const s = this.node(name)
    return {
      NODETOOL_HOST: '127.0.0.1',
      NODETOOL_PORT: String(s.jmxPort),
      CQLSH_HOST: s.address,
      CQLSH_PORT: String(NATIVE_PORT),
      // the tools of the version the node runs (nodetool's wrapper picks jars and Java by it)
      CASSANDRA_VERSION: this.runtime.version,
      HOME: this.homeDir(name)
    }
  }

  /** The node's tools' home ("inside its pod"): cqlsh reads .cassandra/cqlshrc there. */
  homeDir(name: string): string {
    return join(this.runDir, 'home', name)
  }

  private tool(bin: string, args: string[], env: Record<string, string>, o: { stdin?: string; timeoutMs?: number }): Promise<ToolResult> {
    return new Promise((resolvePromise) => {
      const child = execFile(
        join(this.binDir, bin),
        args,
        { env: { ...process.env, ...env }, timeout: o.timeoutMs ?? 120000, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0
          resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) })
        }
      )
      child.stdin?.end(o.stdin ?? '')
    })
  }

  /** Real nodetool against a node's JMX, authenticated with the run's JMX credentials file. */
  async nodetool(name: string, args: string[], o: { allowFailure?: boolean; timeoutMs?: number; credentials?: false } = {}): Promise<ToolResult> {
    const env = this.nodeEnv(name)
    if (o.credentials !== false) {
      env.NODETOOL_USER = this.credentials().jmxUser
      env.NODETOOL_PASSWORD_FILE = this.jmxPasswordFile()
    }
    const r = await this.tool('nodetool', args, env, { timeoutMs: o.timeoutMs })
    if (r.code !== 0 && !o.allowFailure) throw new CassandraError(`nodetool ${args.join(' ')} on ${name} failed (exit ${r.code}):\n${r.stderr}${r.stdout}`)
    return r
  }

  /**
   * Real cqlsh against a node: statements go in on stdin (cqlsh reads a script from a non-tty stdin), the credentials
   * file is the DDL user's unless `as` says otherwise. Fails when cqlsh reports any error.
   */
  async cql(name: string, statements: string[] | string, o: { as?: 'ddl' | 'default' | 'superuser'; allowFailure?: boolean; timeoutMs?: number } = {}): Promise<ToolResult> {
    const s = this.node(name)
    const env = this.nodeEnv(name)
    mkdirSync(env.HOME, { recursive: true })
    const body = (Array.isArray(statements) ? statements : [statements]).map((q) => (q.trim().endsWith(';') ? q.trim() : `${q.trim()};`)).join('\n') + '\n'
    const args = ['--no-color', '--credentials', this.cqlCredentialsFile(o.as ?? 'ddl'), '--request-timeout', '60', s.address, String(NATIVE_PORT)]
    const r = await this.tool('cqlsh', args, env, { stdin: body, timeoutMs: o.timeoutMs })
    const failed = r.code !== 0 || /^<stdin>:\d+:|(Error|Exception) from server|Connection error/m.test(r.stderr)
    if (failed && !o.allowFailure) throw new CassandraError(`cqlsh on ${name} failed (exit ${r.code}):\n${r.stderr.trim()}`)
    return failed && r.code === 0 ? { ...r, code: 2 } : r
  }

  /** SELECT JSON ... -> parsed rows. */
  async selectJson<T = Record<string, unknown>>(name: string, query: string, o: { as?: 'ddl' | 'default' | 'superuser'; consistency?: string } = {}): Promise<T[]> {
    const stmts = o.consistency ? [`CONSISTENCY ${o.consistency}`, query] : [query]
    const r = await this.cql(name, stmts, { as: o.as })
    return parseJsonLines<T>(r.stdout)
  }

  // ---- auth --------------------------------------------------------------------------------

  /**
   * First start of a cluster: replicate the auth/system keyspaces over the DC's nodes, create the
   * DDL user with its generated password and replace the default superuser password. Idempotent.
   */
  async bootstrapAuth(dc: string, timeoutMs = 90000): Promise<void> {
    if (this.state().authBootstrapped) return
    const nodes = this.nodes().filter((n) => n.datacenter === dc && this.running(n.name))
    if (!nodes.length) throw new CassandraError(`no running node in ${dc}`)
    const c = this.credentials()
    const rf = Math.min(3, nodes.length)
    const until = Date.now() + timeoutMs
    const repl = `{'class': 'NetworkTopologyStrategy', '${dc}': ${rf}}`
    const setup = [
      ...['system_auth', 'system_distributed', 'system_traces'].map((k) => `ALTER KEYSPACE ${k} WITH replication = ${repl}`),
      `CREATE ROLE IF NOT EXISTS ${c.ddlUser} WITH SUPERUSER = true AND LOGIN = true AND PASSWORD = '${c.ddlPassword}'`,
      // the built-in superuser keeps working, but not with its well-known default password
      `ALTER ROLE cassandra WITH PASSWORD = '${c.superuserPassword}'`
    ]
    // The default role appears a moment after start-up: retry until the login works.
    for (;;) {
      const r = await this.cql(nodes[0].name, setup, { as: 'default', allowFailure: true })
      if (r.code === 0) break
      // an earlier, interrupted bootstrap may have replaced the default password already
      if (/Bad credentials|AuthenticationFailed/i.test(r.stderr) && (await this.cql(nodes[0].name, setup, { allowFailure: true })).code === 0) break
      if (Date.now() > until) throw new CassandraError(`could not log in to ${nodes[0].name} to set up auth:\n${r.stderr}`)
      await sleep(1000)
    }
    this.setState({ authBootstrapped: true })
  }
}

/** Rows of cqlsh's SELECT JSON output (one `{...}` per line under the `[json]` header). */
export function parseJsonLines<T>(stdout: string): T[] {
  const rows: T[] = []
  for (const line of stdout.split('\n')) {
    const t = line.trim()
    if (t.startsWith('{') && t.endsWith('}')) rows.push(JSON.parse(t) as T)
  }
  return rows
}
