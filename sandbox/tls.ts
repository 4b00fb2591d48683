// A throwaway certificate authority and server certificates for the sandbox's HTTPS doubles
// (ARM, Kubernetes API), made with the machine's openssl. Clients get the CA file, exactly as
// they would get a private CA in a real installation.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface Tls {
  caFile: string
  ca: string
  cert: string
  key: string
  certFile: string
  keyFile: string
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Makes (or reuses) a CA in dir and a server certificate for the given names and IPs. */
export function serverTls(dir: string, name: string, hosts: string[] = ['localhost', '127.0.0.1']): Tls {
  mkdirSync(dir, { recursive: true })
  const caFile = join(dir, 'ca.crt')
  const caKey = join(dir, 'ca.key')
  if (!existsSync(caFile)) {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=mr-actions sandbox CA', '-keyout', caKey, '-out', caFile], dir)
  }
  const certFile = join(dir, `${name}.crt`)
  const keyFile = join(dir, `${name}.key`)
  if (!existsSync(certFile)) {
    const san = hosts.map((h) => (/^\d+\.\d+\.\d+\.\d+$/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',')
    const ext = join(dir, `${name}.ext`)
    writeFileSync(ext, `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n`)
    const csr = join(dir, `${name}.csr`)
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', keyFile, '-out', csr], dir)
    openssl(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-days', '30', '-extfile', ext, '-out', certFile], dir)
  }
  return {
    caFile,
    ca: readFileSync(caFile, 'utf8'),
    cert: readFileSync(certFile, 'utf8'),
    key: readFileSync(keyFile, 'utf8'),
    certFile,
    keyFile
  }
}
