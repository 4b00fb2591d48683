// The documented RBAC (docs/rbac/*.yaml) on the Kubernetes API doubles, as an admin applies it:
// the identity's object ID as subject, optionally without one verb of one rule; and an identity
// whose Entra access tokens (minted by the Entra double, AKS audience) the doubles accept, in a
// kubeconfig of its own, so a bundled action meets the RBAC it documents.
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import YAML from 'yaml'
import { AKS_SERVER_APP_ID, EntraDouble } from '../../sandbox/arm/entra.ts'
import { writeKubeconfig, type KubeCluster } from '../../sandbox/kube/index.ts'
import type { EntraTokenReview } from '../../sandbox/kube/index.ts'
import { ROOT } from '../../sandbox/runner.ts'

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }
export type RbacDoc = { kind: string; metadata: { name: string; namespace?: string }; rules?: Rule[]; subjects?: { name: string }[] }

/** One verb of one rule of one document of a file: a permission to withhold. */
export interface Withheld {
  file: string
  doc: number
  rule: number
  verb: string
  /** the rule's first resource and API group, as describePermission spells them: pods/exec, deployments.apps */
  resource: string
}

/** The file's documents with every subject named objectId. */
export function rbacDocs(file: string, objectId: string): RbacDoc[] {
  return YAML.parseAllDocuments(readFileSync(join(ROOT, 'docs/rbac', file), 'utf8')).map((x) => {
    const o = x.toJS() as RbacDoc
    for (const s of o.subjects ?? []) s.name = objectId
    return o
  })
}

/** Every verb of every rule of the Roles / ClusterRoles in the file, in order. */
export function grantsOf(file: string): Withheld[] {
  return rbacDocs(file, '').flatMap((o, doc) =>
    (o.rules ?? []).flatMap((r, rule) => r.verbs.map((verb) => ({ file, doc, rule, verb, resource: r.apiGroups[0] ? `${r.resources[0]}.${r.apiGroups[0]}` : r.resources[0] })))
  )
}

/** Replaces the file's objects in the cluster, without the withheld verb when it is one of this file's. */
export function applyRbac(cluster: KubeCluster, file: string, objectId: string, drop?: Withheld): void {
  rbacDocs(file, objectId).forEach((o, i) => {
    if (drop?.file === file && drop.doc === i && o.rules) {
      const r = o.rules[drop.rule]
      r.verbs = r.verbs.filter((v) => v !== drop.verb)
      o.rules = o.rules.filter((x) => x.verbs.length)
    }
    cluster.delete(`${o.kind.toLowerCase()}s`, o.metadata.namespace, o.metadata.name)
    cluster.apply(o as never)
  })
}

/** A service principal of a tenant the doubles trust (`entra` for startKubeCluster). */
export class TestIdentity {
  readonly objectId = randomUUID()
  private readonly tenant = new EntraDouble({ tenantId: randomUUID(), assertionKey: 'unused: tokens are minted directly' })

  get entra(): EntraTokenReview {
    return { issuer: this.tenant.issuer, audience: AKS_SERVER_APP_ID, jwks: () => this.tenant.jwks() }
  }

  /** A kubeconfig with one context per cluster whose user is this identity (a token valid for an hour). */
  kubeconfig(path: string, clusters: KubeCluster[]): string {
    const token = this.tenant.mint({ objectId: this.objectId, audience: AKS_SERVER_APP_ID, lifetimeSec: 3600 })
    return writeKubeconfig(path, clusters.map((c) => ({ ...c.kubeconfigEntry(), token })))
  }
}

/** Requests that wrote something other than a permission review. */
export const writes = (c: KubeCluster): string[] =>
  c.accessLog.filter((e) => ['create', 'update', 'patch', 'delete', 'deletecollection'].includes(e.verb) && e.resource !== 'selfsubjectaccessreviews').map((e) => `${e.verb} ${e.path}`)
