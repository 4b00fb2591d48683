// The Kubernetes API double: one small HTTPS API server per region cluster that the real kubectl
// (Debian's 1.20, SPDY/3.1 exec) talks to through a generated kubeconfig.
//
//   const dc1 = await startKubeCluster({ name: 'apigee-dc-1', tlsDir, namespaces: ['apigee'] })
//   dc1.addPod({ namespace: 'apigee', name: 'apigee-cassandra-default-0', podIP: '127.0.0.11',
//                labels: { app: 'apigee-cassandra' }, containers: [{ name: 'apigee-cassandra' }],
//                exec: localProcessExec({ env: { PATH: toolsPath } }), logs: { file: systemLog } })
//   dc1.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'apigee-datastore-default-creds',
//              namespace: 'apigee' }, data: { 'jmx.user': b64('jmxuser') } })
//   dc1.addWorkload({ kind: 'Deployment', namespace: 'apigee', name: 'runtime', replicas: 2,
//                     onReplicas: async (c) => { await startOrStopReplicas(c.replicas); return c.replicas } })
//   writeKubeconfig(file, [dc1, dc2], { currentContext: dc1.name })
//   ... kubectl --kubeconfig file --context apigee-dc-1 -n apigee get pods -o wide ...
//   await dc1.close()
//
// What the API serves: discovery (/api, /apis, /api/v1, /apis/<group>/<version>, /version,
// /openapi/v2), namespaces, pods (+exec over SPDY/3.1 v4.channel.k8s.io, +log), secrets,
// configmaps, services, nodes, deployments and statefulsets (+scale), the Apigee CRDs
// (apigee.cloud.google.com/v1alpha1 ApigeeDatastore, CassandraDataReplication), with get/list
// (label and field selectors, Table output for `kubectl get`), watch, create, update, patch
// (strategic merge, JSON merge, JSON patch), delete. Requests need the bearer token: the static
// admin token, or (with `entra`, as AKS with Entra ID) an Entra access token; RBAC is then enforced
// from the stored rbac.authorization.k8s.io/v1 objects, and SelfSubjectAccessReview is served.
export { startKubeCluster, type KubeCluster } from './server.ts'
export { writeKubeconfig, kubeconfigYaml } from './kubeconfig.ts'
export { localProcessExec, type LocalExecOptions } from './local-exec.ts'
export type {
  AccessLogEntry,
  ContainerOptions,
  EntraTokenReview,
  ExecHandler,
  ExecRequest,
  KubeClusterOptions,
  KubeconfigEntry,
  KubeMetadata,
  KubeObject,
  LogOptions,
  LogSource,
  PodHandle,
  PodOptions,
  ReplicaChange,
  ReplicaHook,
  WorkloadKind,
  WorkloadOptions
} from './types.ts'
