// The Azure Resource Manager double: an HTTPS server that speaks the ARM REST protocol the real
// @azure/arm-network client uses (virtual networks, peerings, network security groups, security
// rules, long-running operations with Azure-AsyncOperation polling), with injectable faults and a
// request log the tests assert on.
//
// It also plays the two token issuers of the real auth path, so the action authenticates exactly
// as it does on GitHub: a GitHub OIDC token endpoint (plain HTTP, as ACTIONS_ID_TOKEN_REQUEST_URL
// points at) that signs ID tokens, and an Entra ID endpoint (same HTTPS server, reached through the
// identity library's `authorityHost`, see entra.ts) that exchanges a federated ID token
// (client_assertion) for an access token: for ARM, or for AKS clusters (the Kubernetes API doubles
// verify those). ARM calls without an ARM token it issued get 401.
import { randomBytes, randomUUID } from 'node:crypto'
import { createServer as createHttp, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http'
import { createServer as createHttps, type Server as HttpsServer } from 'node:https'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serverTls } from '../tls.ts'
import { ManagedClusters, type ManagedClusterRecord } from './aks.ts'
import { EntraDouble, EXCHANGE_AUDIENCE, GITHUB_ISSUER, type FederatedCredential } from './entra.ts'
import { signJwt } from './jwt.ts'
import { type NsgRecord, type PeeringRecord, type SecurityRuleRecord, type VnetRecord, World } from './world.ts'
import { mixedFamilies, overlapping } from './address-space.ts'
import { DEFAULT_RULES, hex12 } from './wire-format.ts'

export interface LogEntry {
  kind: 'arm' | 'entra' | 'oidc'
  method: string
  path: string
  query: string
  status: number
  /** An ARM request that asks to change something (PUT, PATCH, DELETE, POST), whatever its answer. */
  mutating: boolean
  at: number
}

export interface Fault {
  status: 429 | 500 | 502 | 503
  /** How many matching requests still get the fault. */
  count: number
  retryAfterSec?: number
  method?: string
  path?: RegExp
}

export interface ArmDoubleOptions {
  tenantId?: string
  clientId?: string
  /** The federated credential's subject; the default accepts any subject of example/platform. */
  subject?: RegExp
  /** The app's federated credentials (replace the one `subject` makes). */
  federatedCredentials?: FederatedCredential[]
  /** The `sub` of the GitHub OIDC double's ID tokens; default repo:<GITHUB_REPOSITORY or example/platform>:ref:refs/heads/main */
  idTokenSubject?: string
  /** Lifetime of the Entra double's access tokens (seconds); default 3599. */
  tokenLifetimeSec?: number
  /** Lifetime of the GitHub OIDC double's ID tokens (seconds); default 300. */
  idTokenLifetimeSec?: number
  /** Retry-After (seconds) sent with long-running operations. */
  lroRetryAfterSec?: number
  /** Polls answered InProgress before an operation succeeds. */
  lroPolls?: number
  tlsDir?: string
}


type Json = Record<string, unknown>

class HttpError extends Error {
  readonly status: number
  readonly code: string
  readonly headers: Record<string, string>
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.status = status
    this.code = code
    this.headers = headers
  }
}

interface Operation {
  id: string
  pollsLeft: number
  status: 'InProgress' | 'Succeeded' | 'Failed'
  finish: () => void
}

export class ArmDouble {
  readonly world = new World()
  readonly log: LogEntry[] = []
  readonly faults: Fault[] = []
  readonly tenantId: string
  readonly clientId: string
  readonly caFile: string
  /** Access tokens for ARM issued by the Entra double (only these open ARM). */
  readonly issued = new Set<string>()
  /** AKS clusters (Microsoft.ContainerService/managedClusters), see aks.ts */
  readonly aks: ManagedClusters
  /** The Entra ID double (same HTTPS server): apps, federated credentials, token lifetime, JWKS. */
  readonly entra: EntraDouble
  /** `sub` of the ID tokens the GitHub OIDC double issues from now on */
  idTokenSubject: string
  /** ID tokens handed out by the GitHub OIDC double. */
  idTokensIssued = 0
  /** When each ID token was issued and until when it is valid (seconds since the epoch). */
  readonly idTokens: { issuedAt: number; expiresAt: number }[] = []
  /** lifetime of the ID tokens issued from now on (seconds) */
  idTokenLifetimeSec: number
  url = ''
  oidcUrl = ''
  private readonly requestToken = randomBytes(16).toString('hex')
  private readonly signingKey = randomBytes(32).toString('hex')
  private readonly ops = new Map<string, Operation>()
  private readonly o: Required<Pick<ArmDoubleOptions, 'tenantId' | 'clientId' | 'subject' | 'lroRetryAfterSec' | 'lroPolls'>>
  private readonly https: HttpsServer
  private readonly oidc: HttpServer

  constructor(o: ArmDoubleOptions = {}) {
    this.tenantId = o.tenantId ?? '72f988bf-0000-4000-8000-000000000001'
    this.clientId = o.clientId ?? '0b1c2d3e-0000-4000-8000-000000000002'
    this.o = {
      tenantId: this.tenantId,
      clientId: this.clientId,
      subject: o.subject ?? /^repo:example\/platform:/,
      lroRetryAfterSec: o.lroRetryAfterSec ?? 1,
      lroPolls: o.lroPolls ?? 1
    }
    this.aks = new ManagedClusters(this.tenantId)
    this.idTokenLifetimeSec = o.idTokenLifetimeSec ?? 300
    this.idTokenSubject = o.idTokenSubject ?? `repo:${process.env.GITHUB_REPOSITORY ?? 'example/platform'}:ref:refs/heads/main`
    this.entra = new EntraDouble({
      tenantId: this.tenantId,
      assertionKey: this.signingKey,
      tokenLifetimeSec: o.tokenLifetimeSec,
      armResources: () => [this.url],
      onArmToken: (t) => this.issued.add(t)
    })
    this.entra.addApp({
      clientId: this.clientId,
      federatedCredentials: o.federatedCredentials ?? [{ issuer: GITHUB_ISSUER, subject: this.o.subject, audience: EXCHANGE_AUDIENCE }]
    })
    const tls = serverTls(o.tlsDir ?? mkdtempSync(join(tmpdir(), 'mr-arm-tls-')), 'arm')
    this.caFile = tls.caFile
    this.https = createHttps({ key: tls.key, cert: tls.cert }, (req, res) => void this.handle(req, res))
    this.oidc = createHttp((req, res) => void this.handleOidc(req, res))
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.https.listen(0, '127.0.0.1', r))
    await new Promise<void>((r) => this.oidc.listen(0, '127.0.0.1', r))
    this.url = `https://127.0.0.1:${(this.https.address() as { port: number }).port}`
    this.oidcUrl = `http://127.0.0.1:${(this.oidc.address() as { port: number }).port}`
    return this
  }

  async close(): Promise<void> {
    this.https.closeAllConnections()
    this.oidc.closeAllConnections()
    await Promise.all([new Promise((r) => this.https.close(r)), new Promise((r) => this.oidc.close(r))])
  }

  /** What the GitHub runner puts in a job with `permissions: id-token: write`. */
  runnerEnv(): Record<string, string> {
    return {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${this.oidcUrl}/idtoken?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: this.requestToken
    }
  }

  /** The action inputs that point it at this double. */
  inputs(): Record<string, string> {
    return {
      'azure-endpoint': this.url,
      'azure-authority-host': this.url,
      'azure-ca': this.caFile,
      'tenant-id': this.tenantId,
      'client-id': this.clientId
    }
  }

  /** Registers an AKS cluster whose API server is a Kubernetes API double (url, ca). */
  addManagedCluster(c: Omit<ManagedClusterRecord, 'location'> & { location?: string }): ManagedClusterRecord {
    return this.aks.add({ location: 'eastus', ...c })
  }

  /** ARM requests that asked to change something. */
  writes(): LogEntry[] {
    return this.log.filter((e) => e.mutating)
  }

  clearLog(): void {
    this.log.length = 0
  }

  /** Injects a fault: the next `count` matching ARM requests get `status`. */
  inject(f: Fault): void {
    this.faults.push(f)
  }

  // ---------------------------------------------------------------- plumbing

  private async body(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    return Buffer.concat(chunks).toString('utf8')
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = body === undefined ? '' : JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-ms-request-id': randomUUID(), ...headers })
    res.end(text)
  }

  private record(kind: LogEntry['kind'], req: IncomingMessage, url: URL, status: number): void {
    const method = req.method ?? 'GET'
    this.log.push({
      kind,
      method,
      path: url.pathname,
      query: url.search,
      status,
      mutating: kind === 'arm' && ['PUT', 'PATCH', 'DELETE', 'POST'].includes(method),
      at: Date.now()
    })
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url)
    const kind: LogEntry['kind'] = url.pathname.toLowerCase().startsWith('/subscriptions/') ? 'arm' : 'entra'
    let status = 500
    try {
      const text = await this.body(req)
      if (kind === 'entra') {
        const [s, b] = this.entra.handle(req.method ?? 'GET', url, text, this.url)
        status = s
        this.send(res, s, b)
        return
      }
      this.authorize(req)
      const fault = this.faults.find((f) => f.count > 0 && (!f.method || f.method === req.method) && (!f.path || f.path.test(url.pathname)))
      if (fault) {
        fault.count--
        const headers: Record<string, string> = fault.retryAfterSec !== undefined ? { 'retry-after': String(fault.retryAfterSec) } : {}
        const code = { 429: 'SubscriptionRequestsThrottled', 500: 'InternalServerError', 502: 'BadGateway', 503: 'ServiceUnavailable' }[fault.status]
        throw new HttpError(fault.status, code, `injected fault ${fault.status}`, headers)
      }
      if (!url.searchParams.get('api-version')) {
        throw new HttpError(400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.")
      }
      const [s, b, h] = this.arm(req.method ?? 'GET', url, text)
      status = s
      this.send(res, s, b, h)
    } catch (e) {
      if (e instanceof HttpError) {
        status = e.status
        this.send(res, e.status, { error: { code: e.code, message: e.message } }, e.headers)
      } else {
        status = 500
        this.send(res, 500, { error: { code: 'InternalServerError', message: String(e) } })
      }
    } finally {
      this.record(kind, req, url, status)
    }
  }

  private authorize(req: IncomingMessage): void {
    const auth = req.headers.authorization ?? ''
    const m = /^Bearer (.+)$/.exec(auth)
    if (!m || !this.issued.has(m[1])) {
      throw new HttpError(401, m ? 'InvalidAuthenticationToken' : 'AuthenticationFailed', m ? 'The access token is invalid.' : "Authentication failed. The 'Authorization' header is missing.", {
        'www-authenticate': `Bearer authorization_uri="${this.url}/${this.tenantId}", error="invalid_token"`
      })
    }
  }

  // ---------------------------------------------------------------- GitHub OIDC

  private async handleOidc(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.oidcUrl)
    let status = 200
    if (url.pathname !== '/idtoken') status = 404
    // the scheme is case-insensitive (kubelogin sends `bearer`)
    else if (!/^bearer /i.test(req.headers.authorization ?? '') || (req.headers.authorization ?? '').slice(7) !== this.requestToken) status = 401
    if (status !== 200) {
      this.send(res, status, { message: status === 404 ? 'Not Found' : 'Bad credentials' })
    } else {
      const now = Math.floor(Date.now() / 1000)
      const value = signJwt(
        {
          iss: GITHUB_ISSUER,
          aud: url.searchParams.get('audience') ?? 'https://github.com/example',
          sub: this.idTokenSubject,
          iat: now,
          nbf: now,
          exp: now + this.idTokenLifetimeSec,
          jti: randomUUID()
        },
        this.signingKey
      )
      this.idTokensIssued++
      this.idTokens.push({ issuedAt: now, expiresAt: now + this.idTokenLifetimeSec })
      this.send(res, 200, { count: 1, value })
    }
    this.record('oidc', req, url, status)
  }

  // ---------------------------------------------------------------- Entra ID

  // ---------------------------------------------------------------- ARM

  private arm(method: string, url: URL, text: string): [number, unknown, Record<string, string>?] {
    const seg = url.pathname.split('/').filter(Boolean).map(decodeURIComponent)
    const lower = seg.map((s) => s.toLowerCase())
    // /subscriptions/{s}/providers/Microsoft.Network/locations/{loc}/operations|operationResults/{id}
    if (lower[2] === 'providers' && lower[4] === 'locations' && seg.length === 8) {
      return this.operation(lower[6], seg[7])
    }
    // /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters[/{name}[/{action}]]
    if (lower[0] === 'subscriptions' && lower[2] === 'resourcegroups' && lower[4] === 'providers' && lower[5] === 'microsoft.containerservice' && lower[6] === 'managedclusters' && seg.length <= 9) {
      this.checkScope(seg[1], seg[3])
      const [s, b] = this.aks.handle(method, seg[1], seg[3], seg[7], seg[8], url)
      return [s, b]
    }
    // /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Network/{type}/{name}[/{child}[/{childName}]]
    if (lower[0] !== 'subscriptions' || lower[2] !== 'resourcegroups' || lower[4] !== 'providers' || lower[5] !== 'microsoft.network') {
      throw new HttpError(404, 'NoRegisteredProviderFound', `No route for ${method} ${url.pathname}`)
    }
    const [sub, rg, type, name, child, childName] = [seg[1], seg[3], lower[6], seg[7], lower[8], seg[9]]
    this.checkScope(sub, rg)
    const body = (): Json => {
      try {
        return text ? (JSON.parse(text) as Json) : {}
      } catch {
        throw new HttpError(400, 'InvalidRequestFormat', 'Cannot parse the request.')
      }
    }
    if (type === 'virtualnetworks' && name) {
      const v = this.world.vnet(`/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Network/virtualNetworks/${name}`)
      if (!v) throw new HttpError(404, 'ResourceNotFound', `The Resource 'Microsoft.Network/virtualNetworks/${name}' under resource group '${rg}' was not found.`)
      if (child === undefined && method === 'GET') return [200, this.vnetJson(v)]
      if (child === 'virtualnetworkpeerings' && childName === undefined && method === 'GET') {
        return [200, { value: [...v.peerings.values()].map((p) => this.peeringJson(v, p)) }]
      }
      if (child === 'virtualnetworkpeerings' && childName !== undefined) return this.peering(method, v, childName, url, body)
    }
    if (type === 'networksecuritygroups' && name) {
      const n = this.world.nsg(`/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Network/networkSecurityGroups/${name}`)
      if (!n) throw new HttpError(404, 'ResourceNotFound', `The Resource 'Microsoft.Network/networkSecurityGroups/${name}' under resource group '${rg}' was not found.`)
      if (child === undefined && method === 'GET') return [200, this.nsgJson(n)]
      if (child === 'securityrules' && childName === undefined && method === 'GET') return [200, { value: [...n.rules.values()].map((r) => this.ruleJson(n, r)) }]
      if (child === 'securityrules' && childName !== undefined) return this.rule(method, n, childName, body)
    }
    throw new HttpError(405, 'MethodNotAllowed', `The double does not serve ${method} ${url.pathname}`)
  }

  private checkScope(sub: string, rg: string): void {
    const all = [...this.world.vnets.values(), ...this.world.nsgs.values()]
    if (!all.some((r) => r.subscription.toLowerCase() === sub.toLowerCase()) && !this.aks.has(sub)) {
      throw new HttpError(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`)
    }
    if (!all.some((r) => r.subscription.toLowerCase() === sub.toLowerCase() && r.resourceGroup.toLowerCase() === rg.toLowerCase()) && !this.aks.has(sub, rg)) {
      throw new HttpError(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`)
    }
  }

  private startOperation(sub: string, location: string, finish: () => void): Record<string, string> {
    const id = randomUUID()
    this.ops.set(id, { id, pollsLeft: this.o.lroPolls, status: 'InProgress', finish })
    const base = `${this.url}/subscriptions/${sub}/providers/Microsoft.Network/locations/${location}`
    return {
      'azure-asyncoperation': `${base}/operations/${id}?api-version=2026-01-01`,
      'retry-after': String(this.o.lroRetryAfterSec)
    }
  }

  private operation(which: string, id: string): [number, unknown, Record<string, string>?] {
    const op = this.ops.get(id)
    if (!op) throw new HttpError(404, 'OperationNotFound', `Operation ${id} not found.`)
    if (op.status === 'InProgress') {
      if (op.pollsLeft > 0) op.pollsLeft--
      else {
        op.finish()
        op.status = 'Succeeded'
      }
    }
    if (which === 'operationresults') return op.status === 'InProgress' ? [202, undefined, { 'retry-after': String(this.o.lroRetryAfterSec) }] : [204, undefined]
    return [200, { id, name: id, status: op.status }, op.status === 'InProgress' ? { 'retry-after': String(this.o.lroRetryAfterSec) } : {}]
  }

  private peering(method: string, v: VnetRecord, name: string, url: URL, body: () => Json): [number, unknown, Record<string, string>?] {
    const existing = v.peerings.get(name.toLowerCase())
    if (method === 'GET') {
      if (!existing) throw new HttpError(404, 'NotFound', `Resource ${v.id}/virtualNetworkPeerings/${name} not found.`)
      return [200, this.peeringJson(v, existing)]
    }
    if (method === 'DELETE') {
      if (!existing) return [204, undefined]
      existing.provisioningState = 'Deleting'
      const headers = this.startOperation(v.subscription, v.location, () => {
        v.peerings.delete(name.toLowerCase())
        this.world.refreshConnected()
      })
      return [202, undefined, { ...headers, location: headers['azure-asyncoperation'].replace('/operations/', '/operationResults/') }]
    }
    if (method !== 'PUT') throw new HttpError(405, 'MethodNotAllowed', `${method} is not supported on peerings`)
    const b = body()
    const props = (b.properties ?? {}) as Json
    const remoteId = ((props.remoteVirtualNetwork ?? {}) as Json).id
    if (typeof remoteId !== 'string' || remoteId === '') {
      throw new HttpError(400, 'InvalidRequestFormat', 'properties.remoteVirtualNetwork.id is required.')
    }
    const remote = this.world.vnet(remoteId)
    if (!remote) throw new HttpError(400, 'InvalidResourceReference', `Resource ${remoteId} referenced by resource ${v.id}/virtualNetworkPeerings/${name} was not found.`)
    if (remote.id.toLowerCase() === v.id.toLowerCase()) throw new HttpError(400, 'CannotPeerVnetWithItself', `Virtual network ${v.id} cannot be peered with itself.`)
    if (existing && existing.remoteId.toLowerCase() !== remoteId.toLowerCase()) {
      throw new HttpError(400, 'CannotChangeRemoteVirtualNetworkOfPeering', `Peering ${name} already points at ${existing.remoteId}; its remote virtual network cannot be changed.`)
    }
    if (existing && this.world.state(v, existing) === 'Disconnected') {
      throw new HttpError(400, 'PeeringIsDisconnected', `Peering ${name} is Disconnected. Delete it and create it again.`)
    }
    for (const p of v.peerings.values()) {
      if (p !== existing && p.remoteId.toLowerCase() === remoteId.toLowerCase()) {
        throw new HttpError(400, 'VnetPeeringAlreadyExists', `Peering ${p.name} of ${v.id} already connects to ${remoteId}.`)
      }
    }
    const overlap = overlapping(v.addressPrefixes, remote.addressPrefixes)
    if (overlap) {
      throw new HttpError(400, 'VnetAddressSpacesOverlap', `Cannot create or update peering ${name}. Virtual networks ${v.id} and ${remote.id} cannot be peered because their address spaces overlap (${overlap}).`)
    }
    if (props.useRemoteGateways === true) {
      throw new HttpError(400, 'RemoteVnetHasNoGateways', `Peering ${name} cannot have UseRemoteGateways flag set to true because remote virtual network ${remote.id} does not have any gateways.`)
    }
    const sync = url.searchParams.get('syncRemoteAddressSpace')
    const rec: PeeringRecord = existing ?? {
      name,
      remoteId: remote.id,
      allowVirtualNetworkAccess: true,
      allowForwardedTraffic: false,
      allowGatewayTransit: false,
      useRemoteGateways: false,
      remoteSnapshot: [...remote.addressPrefixes],
      wasConnected: false,
      provisioningState: 'Updating',
      etag: 0
    }
    rec.allowVirtualNetworkAccess = props.allowVirtualNetworkAccess !== false
    rec.allowForwardedTraffic = props.allowForwardedTraffic === true
    rec.allowGatewayTransit = props.allowGatewayTransit === true
    rec.useRemoteGateways = false
    if (sync !== null && sync.toLowerCase() === 'true') rec.remoteSnapshot = [...remote.addressPrefixes]
    rec.provisioningState = 'Updating'
    rec.etag = this.world.nextEtag()
    v.peerings.set(name.toLowerCase(), rec)
    const headers = this.startOperation(v.subscription, v.location, () => {
      rec.provisioningState = 'Succeeded'
      this.world.refreshConnected()
    })
    return [existing ? 200 : 201, this.peeringJson(v, rec), headers]
  }

  private rule(method: string, n: NsgRecord, name: string, body: () => Json): [number, unknown, Record<string, string>?] {
    const existing = n.rules.get(name.toLowerCase())
    if (method === 'GET') {
      if (!existing) throw new HttpError(404, 'NotFound', `Resource ${n.id}/securityRules/${name} not found.`)
      return [200, this.ruleJson(n, existing)]
    }
    if (method === 'DELETE') {
      if (!existing) return [204, undefined]
      const headers = this.startOperation(n.subscription, n.location, () => n.rules.delete(name.toLowerCase()))
      return [202, undefined, { ...headers, location: headers['azure-asyncoperation'].replace('/operations/', '/operationResults/') }]
    }
    if (method !== 'PUT') throw new HttpError(405, 'MethodNotAllowed', `${method} is not supported on security rules`)
    const p = (body().properties ?? {}) as Json
    const missing = ['protocol', 'access', 'direction', 'priority'].filter((k) => p[k] === undefined)
    if (missing.length) throw new HttpError(400, 'InvalidRequestFormat', `Security rule ${name}: missing ${missing.join(', ')}.`)
    const priority = Number(p.priority)
    if (!Number.isInteger(priority) || priority < 100 || priority > 4096) {
      throw new HttpError(400, 'SecurityRuleInvalidPriority', `Security rule ${name} has invalid Priority. Value provided: ${p.priority}. Allowed values are from 100 to 4096.`)
    }
    if (mixedFamilies(p)) {
      throw new HttpError(400, 'ResourceCannotContainAddressPrefixesFromDifferentAddressFamilies', `Resource ${n.id}/securityRules/${name} contains IP addresses or prefixes that belong to different address families. All IP addresses or prefixes in the resource should belong to the same address family.`)
    }
    for (const r of n.rules.values()) {
      if (r !== existing && r.priority === priority && r.direction === p.direction) {
        throw new HttpError(400, 'SecurityRuleConflict', `Security rule ${r.name} conflicts with rule ${name}. Rules cannot have the same Priority and Direction.`)
      }
    }
    const rec: SecurityRuleRecord = {
      name,
      protocol: String(p.protocol),
      access: String(p.access),
      direction: String(p.direction),
      priority,
      sourcePortRange: p.sourcePortRange as string | undefined,
      sourcePortRanges: p.sourcePortRanges as string[] | undefined,
      destinationPortRange: p.destinationPortRange as string | undefined,
      destinationPortRanges: p.destinationPortRanges as string[] | undefined,
      sourceAddressPrefix: p.sourceAddressPrefix as string | undefined,
      sourceAddressPrefixes: p.sourceAddressPrefixes as string[] | undefined,
      destinationAddressPrefix: p.destinationAddressPrefix as string | undefined,
      destinationAddressPrefixes: p.destinationAddressPrefixes as string[] | undefined,
      description: p.description as string | undefined,
      provisioningState: 'Updating',
      etag: this.world.nextEtag()
    }
    n.rules.set(name.toLowerCase(), rec)
    const headers = this.startOperation(n.subscription, n.location, () => {
      rec.provisioningState = 'Succeeded'
    })
    return [existing ? 200 : 201, this.ruleJson(n, rec), headers]
  }

  // ---------------------------------------------------------------- wire format

  vnetJson(v: VnetRecord): Json {
    return {
      id: v.id,
      name: v.name,
      type: 'Microsoft.Network/virtualNetworks',
      location: v.location,
      etag: `W/"${v.name}-${this.world.nextEtag()}"`,
      properties: {
        provisioningState: 'Succeeded',
        resourceGuid: `00000000-0000-4000-8000-${hex12(v.id)}`,
        addressSpace: { addressPrefixes: [...v.addressPrefixes] },
        subnets: [],
        virtualNetworkPeerings: [...v.peerings.values()].map((p) => this.peeringJson(v, p)),
        enableDdosProtection: false
      }
    }
  }

  peeringJson(v: VnetRecord, p: PeeringRecord): Json {
    const remote = this.world.vnet(p.remoteId)
    return {
      id: this.world.peeringId(v, p),
      name: p.name,
      type: 'Microsoft.Network/virtualNetworks/virtualNetworkPeerings',
      etag: `W/"${p.etag}"`,
      properties: {
        provisioningState: p.provisioningState,
        resourceGuid: `00000000-0000-4000-8000-${hex12(this.world.peeringId(v, p))}`,
        peeringState: this.world.state(v, p),
        peeringSyncLevel: this.world.syncLevel(v, p),
        remoteVirtualNetwork: { id: remote?.id ?? p.remoteId },
        allowVirtualNetworkAccess: p.allowVirtualNetworkAccess,
        allowForwardedTraffic: p.allowForwardedTraffic,
        allowGatewayTransit: p.allowGatewayTransit,
        useRemoteGateways: p.useRemoteGateways,
        doNotVerifyRemoteGateways: false,
        peerCompleteVnets: true,
        remoteAddressSpace: { addressPrefixes: [...p.remoteSnapshot] },
        remoteVirtualNetworkAddressSpace: { addressPrefixes: [...p.remoteSnapshot] },
        localAddressSpace: { addressPrefixes: [...v.addressPrefixes] },
        localVirtualNetworkAddressSpace: { addressPrefixes: [...v.addressPrefixes] },
        routeServiceVips: {}
      }
    }
  }

  nsgJson(n: NsgRecord): Json {
    return {
      id: n.id,
      name: n.name,
      type: 'Microsoft.Network/networkSecurityGroups',
      location: n.location,
      etag: `W/"${this.world.nextEtag()}"`,
      properties: {
        provisioningState: 'Succeeded',
        resourceGuid: `00000000-0000-4000-8000-${hex12(n.id)}`,
        securityRules: [...n.rules.values()].map((r) => this.ruleJson(n, r)),
        defaultSecurityRules: DEFAULT_RULES.map((r) => ({
          id: `${n.id}/defaultSecurityRules/${r.name}`,
          name: r.name,
          type: 'Microsoft.Network/networkSecurityGroups/defaultSecurityRules',
          properties: { ...r, name: undefined, provisioningState: 'Succeeded' }
        }))
      }
    }
  }

  ruleJson(n: NsgRecord, r: SecurityRuleRecord): Json {
    const { name, etag, ...props } = r
    return {
      id: `${n.id}/securityRules/${name}`,
      name,
      type: 'Microsoft.Network/networkSecurityGroups/securityRules',
      etag: `W/"${etag}"`,
      properties: props
    }
  }
}

export async function startArmDouble(o: ArmDoubleOptions = {}): Promise<ArmDouble> {
  return new ArmDouble(o).start()
}
