import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'
import { describe, expect, it } from 'vitest'
import { startExampleApi } from '../../examples/upstream/server.mjs'
import { loadConfig } from '../../src/config/load.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const EXAMPLES = join(ROOT, 'examples')
/** what docker-compose.yml and the Kubernetes Deployment give the gateway (plus the Secret's values) */
// MPP_SECRET_KEY: both set it (compose from the shell, Kubernetes from the Secret); a shared store needs it.
const ENV = {
  MPP_SECRET_KEY: 'k'.repeat(44),
  REDIS_URL: 'redis://x:6379',
  UPSTREAM_URL: 'http://api:3000',
  TEMPO_RECIPIENT: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
}

type Doc = Record<string, any>
const ADMIN_TOKEN = 'example-admin-token-0123456789abcdef'

const yamlFiles = readdirSync(EXAMPLES, { recursive: true, encoding: 'utf8' })
  .filter((name) => /\.ya?ml$/.test(name))
  .map((name) => join(EXAMPLES, name))
  .sort()

function documents(file: string): Doc[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => {
    if ('errors' in doc && (doc.errors.length > 0 || doc.warnings.length > 0)) {
      throw new Error(`${relative(ROOT, file)}: ${[...doc.errors, ...doc.warnings].map((e) => e.message).join('\n')}`)
    }
    return doc.toJS() as Doc
  })
}

const kube = (name: string) => documents(join(EXAMPLES, 'kubernetes', name))

describe('examples/', () => {
  it('has the compose, config and Kubernetes files', () => {
    expect(yamlFiles.map((f) => relative(EXAMPLES, f))).toEqual(
      expect.arrayContaining([
        'docker-compose.yml',
        'gateway.config.yaml',
        'prometheus.yml',
        'kubernetes/configmap.yaml',
        'kubernetes/deployment.yaml',
        'kubernetes/podmonitor.yaml',
        'kubernetes/redis.yaml',
        'kubernetes/secret.example.yaml',
        'kubernetes/service.yaml',
      ]),
    )
  })

  it('runs Redis with persistence and without eviction, in Compose and in Kubernetes', () => {
    const persistent = ['--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction']
    const compose = documents(join(EXAMPLES, 'docker-compose.yml'))[0]!
    expect(compose.services.redis.command).toEqual(['redis-server', ...persistent])
    expect(compose.services.redis.volumes).toEqual(['redis-data:/data'])
    const statefulSet = kube('redis.yaml').find((doc) => doc.kind === 'StatefulSet')!
    expect(statefulSet.spec.template.spec.containers[0].args).toEqual(persistent)
    expect(statefulSet.spec.template.spec.containers[0].volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }])
  })

  it.each(yamlFiles.map((f) => [relative(ROOT, f), f]))('%s parses as YAML without errors', (_name, file) => {
    const docs = documents(file)
    expect(docs.length).toBeGreaterThan(0)
    for (const doc of docs) expect(doc).toBeTypeOf('object')
  })

  it('gateway.config.yaml loads through the real loader with the compose environment', async () => {
    const loaded = await loadConfig(join(EXAMPLES, 'gateway.config.yaml'), { env: ENV })
    if (!loaded.ok) throw new Error(loaded.errors.join('\n'))
    expect(loaded.ok).toBe(true)
    // The placeholder Stripe values disable stripe (with a warning) until real ones are set.
    expect(Object.keys(loaded.config.methods).sort()).toEqual(['tempo'])
    expect(loaded.warnings).toContain(
      `${join(EXAMPLES, 'gateway.config.yaml')}: methods.stripe.secretKey and methods.stripe.networkId: are placeholders from the examples, so the stripe method is disabled (set STRIPE_SECRET_KEY, STRIPE_NETWORK_ID to your own Stripe values)`,
    )
    const keyed = await loadConfig(join(EXAMPLES, 'gateway.config.yaml'), {
      env: { ...ENV, STRIPE_SECRET_KEY: 'sk_test_abc', STRIPE_NETWORK_ID: 'profile_abc' },
    })
    expect(keyed.ok && Object.keys(keyed.config.methods).sort()).toEqual(['stripe', 'tempo'])
    expect(loaded.config.store.url).toBe(ENV.REDIS_URL)
    expect(loaded.config.upstream.url.href).toBe('http://api:3000/')
    expect(loaded.config.routes.map((r) => r.match)).toContain('GET /v1/joke')
    // no token: the admin port stays on loopback
    expect(loaded.config.admin).toEqual({ host: '127.0.0.1', port: 9402 })
  })

  it('gateway.config.yaml opens the admin port to other hosts only with a token', async () => {
    const open = await loadConfig(join(EXAMPLES, 'gateway.config.yaml'), {
      env: { ...ENV, MPP_ADMIN_LISTEN: '0.0.0.0:9402', MPP_ADMIN_TOKEN: ADMIN_TOKEN },
    })
    if (!open.ok) throw new Error(open.errors.join('\n'))
    expect(open.config.admin).toEqual({ host: '0.0.0.0', port: 9402, token: ADMIN_TOKEN })
    const tokenless = await loadConfig(join(EXAMPLES, 'gateway.config.yaml'), {
      env: { ...ENV, MPP_ADMIN_LISTEN: '0.0.0.0:9402' },
    })
    expect(!tokenless.ok && tokenless.errors.filter((e) => e.includes('admin.'))).toEqual([
      `${join(EXAMPLES, 'gateway.config.yaml')}: admin.listen: "0.0.0.0" is reachable from other machines: set admin.token, or listen on 127.0.0.1`,
    ])
  })

  it('the Kubernetes ConfigMap carries examples/gateway.config.yaml and upstream/server.mjs verbatim', () => {
    const [gatewayConfig, apiCode] = kube('configmap.yaml')
    expect(
      gatewayConfig?.data['gateway.config.yaml'],
      'copy examples/gateway.config.yaml into kubernetes/configmap.yaml',
    ).toBe(readFileSync(join(EXAMPLES, 'gateway.config.yaml'), 'utf8'))
    expect(apiCode?.data['server.mjs'], 'copy examples/upstream/server.mjs into kubernetes/configmap.yaml').toBe(
      readFileSync(join(EXAMPLES, 'upstream/server.mjs'), 'utf8'),
    )
  })

  it('the Deployment runs the gateway as a probed sidecar with a reloadable config mount', async () => {
    const [deployment] = kube('deployment.yaml')
    const pod = deployment!.spec.template.spec
    const gateway = pod.containers.find((c: Doc) => c.name === 'mpp-gateway')
    expect(gateway.ports).toContainEqual({ name: 'http', containerPort: 8402 })
    // the admin port on the pod IP, which the config allows only with the token from the Secret
    expect(gateway.ports).toContainEqual({ name: 'admin', containerPort: 9402 })
    expect(gateway.env.find((e: Doc) => e.name === 'MPP_ADMIN_LISTEN')).toEqual({
      name: 'MPP_ADMIN_LISTEN',
      value: '0.0.0.0:9402',
    })
    expect(gateway.env.find((e: Doc) => e.name === 'MPP_ADMIN_TOKEN').valueFrom.secretKeyRef.key).toBe(
      'MPP_ADMIN_TOKEN',
    )
    expect(gateway.readinessProbe.httpGet).toMatchObject({ path: '/__gateway/readyz', port: 'http' })
    expect(gateway.livenessProbe.httpGet).toMatchObject({ path: '/__gateway/healthz', port: 'http' })
    // a directory mount: subPath mounts never receive ConfigMap updates
    const mount = gateway.volumeMounts.find((m: Doc) => m.mountPath === '/etc/mpp-gateway')
    expect(mount).toBeDefined()
    expect(mount.subPath).toBeUndefined()
    expect(pod.volumes.find((v: Doc) => v.name === mount.name).configMap.name).toBe(
      kube('configmap.yaml')[0]!.metadata.name,
    )
    // every secret the gateway reads comes from the example Secret
    const secret = kube('secret.example.yaml')[0]!
    for (const env of gateway.env.filter((e: Doc) => e.valueFrom)) {
      expect(env.valueFrom.secretKeyRef.name).toBe(secret.metadata.name)
      expect(Object.keys(secret.stringData)).toContain(env.valueFrom.secretKeyRef.key)
    }
    // the pod outlives the gateway's drain
    const loaded = await loadConfig(join(EXAMPLES, 'gateway.config.yaml'), { env: ENV })
    if (!loaded.ok) throw new Error(loaded.errors.join('\n'))
    const { graceMs, timeoutMs } = loaded.config.shutdown
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(graceMs + timeoutMs)
  })

  it("the PodMonitor scrapes the admin port with the token from the gateway's Secret", () => {
    const [monitor] = kube('podmonitor.yaml')
    const [deployment] = kube('deployment.yaml')
    const secret = kube('secret.example.yaml')[0]!
    expect(monitor!.kind).toBe('PodMonitor')
    expect(monitor!.spec.selector.matchLabels).toEqual(deployment!.spec.selector.matchLabels)
    expect(monitor!.spec.podMetricsEndpoints).toEqual([
      expect.objectContaining({
        port: 'admin',
        path: '/__gateway/metrics',
        authorization: { type: 'Bearer', credentials: { name: secret.metadata.name, key: 'MPP_ADMIN_TOKEN' } },
      }),
    ])
    expect(Object.keys(secret.stringData)).toContain('MPP_ADMIN_TOKEN')
  })

  it('the Service targets the gateway port, not the API', () => {
    const [service] = kube('service.yaml')
    const [deployment] = kube('deployment.yaml')
    expect(service!.spec.selector).toEqual(deployment!.spec.selector.matchLabels)
    for (const port of service!.spec.ports) expect(port.targetPort === 'http' || port.targetPort === 8402).toBe(true)
  })

  it('docker-compose.yml wires the gateway to redis and the example API', () => {
    const compose = documents(join(EXAMPLES, 'docker-compose.yml'))[0]!
    const gateway = compose!.services.gateway
    expect(gateway.build.context).toBe('..')
    expect(gateway.volumes).toContain('./gateway.config.yaml:/etc/mpp-gateway/gateway.config.yaml:ro')
    expect(gateway.environment).toMatchObject({ REDIS_URL: 'redis://redis:6379', UPSTREAM_URL: 'http://api:3000' })
    expect(Object.keys(gateway.environment)).toEqual(
      expect.arrayContaining(['MPP_SECRET_KEY', 'STRIPE_SECRET_KEY', 'STRIPE_NETWORK_ID', 'TEMPO_RECIPIENT']),
    )
    // the image's own health check command, reading the mounted config's listen
    expect(gateway.healthcheck.test).toEqual([
      'CMD',
      'node',
      'dist/cli/main.js',
      'healthcheck',
      '--config',
      '/etc/mpp-gateway/gateway.config.yaml',
    ])
    // Debian 12's docker-compose 1.29 refuses a top-level name; the gateway is published on loopback only
    expect(Object.keys(compose!)).toEqual(['services', 'volumes', 'secrets'])
    expect(gateway.environment.MPP_SECRET_KEY).toMatch(/^\$\{MPP_SECRET_KEY:\?/)
    expect(Object.keys(gateway.depends_on).sort()).toEqual(['api', 'redis'])
    // the admin port: on the host's loopback, and in the container on its loopback unless the operator opens it
    // (with the token); no ${VAR:+...}, which docker-compose 1.29 cannot interpolate
    expect(gateway.ports).toEqual(['127.0.0.1:8402:8402', '127.0.0.1:9402:9402'])
    expect(gateway.environment).toMatchObject({
      MPP_ADMIN_TOKEN: '${MPP_ADMIN_TOKEN:-}',
      MPP_ADMIN_LISTEN: '${MPP_ADMIN_LISTEN:-127.0.0.1:9402}',
    })
    // Prometheus reads the same token as a Compose secret, the file prometheus.yml names
    const prometheus = compose!.services.prometheus
    expect(prometheus.volumes).toContain('./prometheus.yml:/etc/prometheus/prometheus.yml:ro')
    expect(prometheus.secrets).toEqual(['mpp_admin_token'])
    expect(compose!.secrets.mpp_admin_token).toEqual({ file: './admin-token' })
    const [scrape] = documents(join(EXAMPLES, 'prometheus.yml'))
    expect(scrape!.scrape_configs).toEqual([
      {
        job_name: 'mpp-gateway',
        metrics_path: '/__gateway/metrics',
        authorization: { type: 'Bearer', credentials_file: '/run/secrets/mpp_admin_token' },
        static_configs: [{ targets: ['gateway:9402'] }],
      },
    ])
    expect(compose!.services.redis.image).toBe('redis:7-alpine')
    expect(compose!.services.api.image).toBe('node:24-alpine')
  })
})

describe('the Dockerfile', () => {
  it("health-checks with the CLI at the config's listen, and keeps dev dependencies out of the runtime image", () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8')
    expect(dockerfile).toContain(
      'CMD ["node", "dist/cli/main.js", "healthcheck", "--config", "/etc/mpp-gateway/gateway.config.yaml"]',
    )
    expect(dockerfile.match(/^FROM .*/gm)).toEqual([
      'FROM node:24-bookworm-slim AS build',
      'FROM node:24-bookworm-slim',
    ])
    expect(dockerfile).toContain('RUN npm ci --omit=dev --omit=optional --ignore-scripts')
    const ignored = readFileSync('.dockerignore', 'utf8').split('\n')
    expect(ignored[ignored.findIndex((l) => !l.startsWith('#'))]).toBe('*')
    expect(ignored).not.toContain('!node_modules')
  })
})

describe('the example upstream (examples/upstream/server.mjs)', () => {
  it('serves its JSON API', async () => {
    const api = await startExampleApi({ port: 0, host: '127.0.0.1' })
    try {
      const health = await fetch(`${api.url}/v1/health`)
      expect(health.status).toBe(200)
      expect(await health.json()).toEqual({ status: 'ok' })
      const joke = (await (await fetch(`${api.url}/v1/joke`)).json()) as { setup: string; punchline: string }
      expect(joke.setup).toBeTypeOf('string')
      expect(joke.punchline).toBeTypeOf('string')
      const summary = await fetch(`${api.url}/v1/summarize`, {
        method: 'POST',
        body: JSON.stringify({ text: 'one two three' }),
      })
      expect(await summary.json()).toEqual({ words: 3, summary: 'one two three' })
      expect((await fetch(`${api.url}/nope`)).status).toBe(404)
    } finally {
      await api.close()
    }
  })
})
