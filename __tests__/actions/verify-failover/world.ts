// Test helper: a two- or three-region traffic world whose deployments live in one Kubernetes API
// double per region, a kubeconfig for the real kubectl, and the env the bundled action needs.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startKubeCluster, writeKubeconfig, type EntraTokenReview, type KubeCluster } from '../../../sandbox/kube/index.ts'
import { ROOT, type StepResult } from '../../../sandbox/runner.ts'
import { ensureBundle } from '../../helpers/bundle.ts'
import { TrafficWorld, type TrafficWorldOptions } from '../../../sandbox/traffic/index.ts'

export const NS = 'apigee'
export const DEPLOYMENT = 'helloworld'

export interface Drill {
  dir: string
  world: TrafficWorld
  clusters: Record<string, KubeCluster>
  kubeconfig: string
  env: Record<string, string>
  classify: string
  replicas(region: string): { spec: number; annotation?: string; running: number }
  close(): Promise<void>
}

export function requireBundle(): void {
  // rebuilt when a source it bundles is newer (the tests judge the code as it is)
  ensureBundle('verify-failover')
  if (!existsSync(join(ROOT, '.cache/bin/kubectl'))) throw new Error(".cache/bin/kubectl is missing: run 'npm run setup' first")
}

/** `entra`: the API doubles also accept that tenant's tokens and enforce RBAC (the kubeconfig stays admin's). */
export async function startDrill(o: TrafficWorldOptions, kube: { entra?: EntraTokenReview } = {}): Promise<Drill> {
  const dir = mkdtempSync(join(tmpdir(), 'verify-failover-'))
  const world = await TrafficWorld.start(o)
  const clusters: Record<string, KubeCluster> = {}
  for (const r of world.regions()) {
    clusters[r] = await startKubeCluster({ name: `aks-${r}`, tlsDir: join(dir, 'tls'), namespaces: [NS], ...kube })
    world.attachKube(clusters[r], r, { namespace: NS, name: DEPLOYMENT })
  }
  const kubeconfig = writeKubeconfig(join(dir, 'kubeconfig'), Object.values(clusters))
  const env = { PATH: `${join(ROOT, '.cache/bin')}:${process.env.PATH}`, HOME: dir, KUBECONFIG: kubeconfig }
  const classify = world.regions().map((r) => `${r} header x-region: ^${r}$`).join('\n')
  return {
    dir,
    world,
    clusters,
    kubeconfig,
    env,
    classify,
    replicas(region) {
      const d = clusters[region].get('deployments', NS, DEPLOYMENT) as { spec?: { replicas?: number }; metadata: { annotations?: Record<string, string> } }
      return { spec: d.spec?.replicas ?? -1, annotation: d.metadata.annotations?.['mr-actions.io/original-replicas'], running: world.replicas.get(region)!.length }
    },
    async close() {
      await world.close()
      for (const c of Object.values(clusters)) await c.close()
    }
  }
}

/** The drill's topology; `mesh` adds the mesh: section (where the DestinationRules and VirtualServices are). */
export function writeTopology(drill: Drill, path = join(drill.dir, 'mr-topology.yml'), mesh?: { namespace: string; region?: string }): string {
  const lines = mesh ? [`mesh: { namespace: ${mesh.namespace}${mesh.region ? `, region: ${mesh.region}` : ''} }`, 'regions:'] : ['regions:']
  for (const r of drill.world.regions()) {
    lines.push(`  ${r}:`)
    lines.push(`    kube: { context: aks-${r} }`)
    lines.push(`    service: { deployment: ${DEPLOYMENT}, namespace: ${NS} }`)
    lines.push(`    ingress: { url: '${drill.world.url}/hello', json: 'region=${r}' }`)
  }
  writeFileSync(path, lines.join('\n') + '\n')
  return path
}

/** The JSON report a step wrote (output report-path). */
export function readReport(step: StepResult): { data: Record<string, unknown>; outputs: Record<string, string> } {
  const path = step.outputs['report-path']
  if (!path) throw new Error(`no report-path output; stdout:\n${step.stdout.slice(-3000)}`)
  return JSON.parse(readFileSync(path, 'utf8'))
}
