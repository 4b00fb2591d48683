// The Entra ID double: the part of login.microsoftonline.com that a workload identity uses. It
// exchanges a federated client assertion (a GitHub ID token; client_credentials grant with
// client_assertion, as MSAL / azidentity send it) for an access token when the assertion's
// issuer, subject and audience match a federated credential of the application, exactly as Entra
// compares them; otherwise AADSTS70021 in Entra's error shape. Access tokens are v1.0 JWTs signed
// RS256 with a key published in the tenant's JWKS, so a resource server (the Kubernetes API
// doubles for AKS) validates them as AKS does: signature, issuer, audience, expiry.
//
//   GET  /{tenant}/v2.0/.well-known/openid-configuration   (MSAL's tenant discovery; no instance
//   GET  /{tenant}/.well-known/openid-configuration         discovery needed: --disable-instance-discovery)
//   GET  /{tenant}/discovery/v2.0/keys, /{tenant}/discovery/keys, /common/discovery/keys
//   POST /{tenant}/oauth2/v2.0/token  (scope <resource>/.default)
import { generateKeyPairSync, randomBytes, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto'
import { signRs256, verifyJwt } from './jwt.ts'

/** The Entra application AKS clusters with Entra ID integration accept tokens for. */
export const AKS_SERVER_APP_ID = '6dae42f8-4368-4678-94ff-3960e28e3630'
/** The public client (Azure CLI) in the kubeconfig `listClusterUserCredential` returns. */
export const AKS_CLIENT_APP_ID = '80faf920-1908-4b52-b5ef-a8e7bedfc67a'
export const ARM_RESOURCE = 'https://management.azure.com'
export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com'
export const EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange'

/** A federated identity credential of an app registration: all three must match the assertion. */
export interface FederatedCredential {
  issuer: string
  /** exact, as Entra compares it; a RegExp stands for many credentials (e.g. any ref of a repo) */
  subject: string | RegExp
  audience: string
}

export interface EntraApp {
  clientId: string
  /** the service principal's object id: the `oid` (and `sub`) of its access tokens */
  objectId: string
  federatedCredentials: FederatedCredential[]
}

export interface EntraOptions {
  tenantId: string
  /** verifies a client assertion's signature (the GitHub OIDC double's key) */
  assertionKey: string
  /** lifetime of access tokens in seconds; default 3599 (Entra's ~1 h) */
  tokenLifetimeSec?: number
  /** ARM's resource identifiers besides the public cloud's (the ARM double's own URL) */
  armResources?: () => string[]
  /** called with each access token issued for ARM (which opens the ARM double) */
  onArmToken?: (token: string) => void
}

export interface IssuedToken {
  clientId: string
  objectId: string
  audience: string
  /** the token's `uti` claim (the Kubernetes doubles log it per request), never the token */
  tokenId: string
  /** seconds since the epoch */
  issuedAt: number
  expiresAt: number
}

type Json = Record<string, unknown>

export class EntraDouble {
  readonly tenantId: string
  readonly apps = new Map<string, EntraApp>()
  /** every access token issued, in order (tests count refreshes with it) */
  readonly tokens: IssuedToken[] = []
  /** lifetime of the access tokens issued from now on (seconds) */
  tokenLifetimeSec: number
  private readonly key: KeyObject
  private readonly publicJwk: JsonWebKey
  private readonly kid = randomBytes(20).toString('base64url')
  private readonly o: EntraOptions

  constructor(o: EntraOptions) {
    this.o = o
    this.tenantId = o.tenantId
    this.tokenLifetimeSec = o.tokenLifetimeSec ?? 3599
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    this.key = privateKey
    this.publicJwk = { ...publicKey.export({ format: 'jwk' }), kid: this.kid, kty: 'RSA', use: 'sig' } as JsonWebKey
  }

  /** Registers (or replaces) an application with its federated credentials. */
  addApp(app: Partial<EntraApp> & { clientId: string }): EntraApp {
    const full: EntraApp = { objectId: randomUUID(), federatedCredentials: [], ...app }
    this.apps.set(app.clientId, full)
    return full
  }

  /** The tenant's signing keys, as /discovery/v2.0/keys serves them. */
  jwks(): { keys: JsonWebKey[] } {
    return { keys: [this.publicJwk] }
  }

  /** The `iss` of the v1.0 access tokens this tenant issues. */
  get issuer(): string {
    return `https://sts.windows.net/${this.tenantId}/`
  }

  /** Signs an access token directly (tests: an expired or foreign-audience token). */
  mint(o: { objectId: string; clientId?: string; audience: string; lifetimeSec?: number; notBeforeSec?: number; groups?: string[] }): string {
    const now = Math.floor(Date.now() / 1000)
    const iat = now + (o.notBeforeSec ?? 0)
    const exp = iat + (o.lifetimeSec ?? this.tokenLifetimeSec)
    return signRs256(
      {
        aud: o.audience,
        iss: this.issuer,
        iat,
        nbf: iat,
        exp,
        aio: randomBytes(12).toString('base64url'),
        ...(o.groups ? { groups: o.groups } : {}),
        appid: o.clientId ?? '',
        appidacr: '2',
        idp: this.issuer,
        idtyp: 'app',
        oid: o.objectId,
        rh: `0.${randomBytes(16).toString('base64url')}.`,
        sub: o.objectId,
        tid: this.tenantId,
        uti: randomBytes(16).toString('base64url'),
        ver: '1.0'
      },
      this.key,
      this.kid
    )
  }

  /** One request under `/{tenant}/...` of the authority host; base = the authority host URL. */
  handle(method: string, url: URL, body: string, base: string): [number, Json] {
    const parts = url.pathname.split('/').filter(Boolean)
    const tenant = parts[0] ?? ''
    const rest = parts.slice(1).join('/')
    const authority = `${base}/${tenant}`
    if (method === 'GET' && (rest === 'discovery/v2.0/keys' || rest === 'discovery/keys')) return [200, this.jwks()]
    if (method === 'GET' && (rest === 'v2.0/.well-known/openid-configuration' || rest === '.well-known/openid-configuration')) {
      if (tenant !== this.tenantId) return this.error(400, 'invalid_tenant', `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`)
      const v2 = rest.startsWith('v2.0')
      return [
        200,
        {
          token_endpoint: `${authority}/oauth2/${v2 ? 'v2.0/' : ''}token`,
          token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
          jwks_uri: `${authority}/discovery/${v2 ? 'v2.0/' : ''}keys`,
          response_modes_supported: ['query', 'fragment', 'form_post'],
          subject_types_supported: ['pairwise'],
          id_token_signing_alg_values_supported: ['RS256'],
          response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
          scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
          issuer: v2 ? `${authority}/v2.0` : this.issuer,
          authorization_endpoint: `${authority}/oauth2/${v2 ? 'v2.0/' : ''}authorize`,
          device_authorization_endpoint: `${authority}/oauth2/${v2 ? 'v2.0/' : ''}devicecode`,
          end_session_endpoint: `${authority}/oauth2/${v2 ? 'v2.0/' : ''}logout`,
          tenant_region_scope: 'NA',
          cloud_instance_name: 'microsoftonline.com',
          cloud_graph_host_name: 'graph.windows.net',
          msgraph_host: 'graph.microsoft.com'
        }
      ]
    }
    if (method === 'POST' && rest === 'oauth2/v2.0/token') return this.token(tenant, new URLSearchParams(body))
    return this.error(404, 'invalid_request', `AADSTS900561: The endpoint only accepts POST, OPTIONS requests. Received a ${method} request.`)
  }

  private error(status: number, error: string, description: string): [number, Json] {
    const traceId = randomUUID()
    const correlationId = randomUUID()
    const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.(\d{3})\d*Z$/, '.$1Z')
    const code = Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0)
    return [
      status,
      {
        error,
        error_description: `${description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
        error_codes: [code],
        timestamp,
        trace_id: traceId,
        correlation_id: correlationId,
        error_uri: `https://login.microsoftonline.com/error?code=${code}`
      }
    ]
  }

  private token(tenant: string, form: URLSearchParams): [number, Json] {
    const fail = (error: string, description: string, status = 400): [number, Json] => this.error(status, error, description)
    if (tenant !== this.tenantId) return fail('invalid_tenant', `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`)
    if (form.get('grant_type') !== 'client_credentials') return fail('unsupported_grant_type', `AADSTS70003: The app requested an unsupported grant type '${form.get('grant_type') ?? ''}'.`)
    const clientId = form.get('client_id') ?? ''
    const app = this.apps.get(clientId)
    if (!app) {
      return fail('unauthorized_client', `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`)
    }
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' || !form.get('client_assertion')) {
      return fail('invalid_client', "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.", 401)
    }
    const v = verifyJwt(form.get('client_assertion') ?? '', this.o.assertionKey)
    if ('error' in v) return fail('invalid_client', `AADSTS50027: JWT token is invalid or malformed (${v.error}).`, 401)
    const p = v.payload
    const matches = app.federatedCredentials.some(
      (f) => f.issuer === p.iss && f.audience === p.aud && (typeof f.subject === 'string' ? f.subject === p.sub : f.subject.test(String(p.sub)))
    )
    if (!matches) {
      return fail(
        'invalid_request',
        `AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '${String(p.iss)}'. Assertion Subject: '${String(p.sub)}'. Assertion Audience: '${String(p.aud)}'. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation`
      )
    }
    const now = Math.floor(Date.now() / 1000)
    if (typeof p.exp !== 'number' || p.exp < now) {
      return fail('invalid_client', `AADSTS700024: Client assertion is not within its valid time range. Current time: ${new Date().toISOString()}, expiry time of assertion ${typeof p.exp === 'number' ? new Date(p.exp * 1000).toISOString() : '(none)'}.`, 401)
    }
    const scope = (form.get('scope') ?? '').split(' ').find((s) => s.endsWith('/.default'))
    if (!scope) return fail('invalid_scope', `AADSTS1002012: The provided value for scope ${form.get('scope') ?? ''} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`)
    const resource = scope.slice(0, -'/.default'.length).replace(/\/$/, '')
    const arm = [ARM_RESOURCE, 'https://management.core.windows.net', ...(this.o.armResources?.() ?? [])].includes(resource)
    if (!arm && resource !== AKS_SERVER_APP_ID) {
      return fail('invalid_resource', `AADSTS500011: The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`)
    }
    const audience = resource === 'https://management.core.windows.net' ? 'https://management.core.windows.net/' : resource
    const token = this.mint({ objectId: app.objectId, clientId, audience })
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { uti: string; iat: number; exp: number }
    this.tokens.push({ clientId, objectId: app.objectId, audience, tokenId: claims.uti, issuedAt: claims.iat, expiresAt: claims.exp })
    if (arm) this.o.onArmToken?.(token)
    return [200, { token_type: 'Bearer', expires_in: this.tokenLifetimeSec, ext_expires_in: this.tokenLifetimeSec, access_token: token }]
  }
}
