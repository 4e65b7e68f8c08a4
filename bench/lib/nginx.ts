import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../test/support/redis-server.js'
import { ensureDebianPackage, track, waitForHttp } from './processes.js'

export type Nginx =
  | { ok: true; url: string; pid: number; version: string; workers: number }
  | { ok: false; reason: string }

/** nginx as a plain keep-alive reverse proxy to the upstream (installed from Debian when missing). */
export async function startNginx(upstreamUrl: string): Promise<Nginx> {
  const missing = ensureDebianPackage('nginx', 'nginx-light')
  if (missing) return { ok: false, reason: missing }
  const nginx = execFileSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).trim()
  const version =
    execFileSync(nginx, ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim() ||
    execFileSync('sh', ['-c', `${nginx} -v 2>&1`], { encoding: 'utf8' })
      .trim()
      .replace(/^nginx version: nginx\//, '')
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'mppgw-bench-nginx-'))
  const upstream = new URL(upstreamUrl)
  const workers = cpus().length
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes ${workers};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream api { server ${upstream.host}; keepalive 128; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
  )
  const child = spawn(nginx, ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: ['ignore', 'ignore', 'inherit'] })
  track(child)
  const exited = new Promise<Nginx>((resolve) =>
    child.once('exit', (code) => resolve({ ok: false, reason: `nginx exited with ${code} (see ${dir}/error.log)` })),
  )
  const url = `http://127.0.0.1:${port}`
  const ready = waitForHttp(url).then((): Nginx => ({ ok: true, url, pid: child.pid!, version, workers }))
  return Promise.race([ready, exited])
}
