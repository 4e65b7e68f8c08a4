import { readFileSync, writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml, stringify } from 'yaml'
import { request } from '../support/http.js'
import { problemOf } from '../support/pay.js'
import { connectSlow, parseRawResponse, within } from '../support/slow-client.js'
import { type Stack, startStack } from '../support/stack.js'

const MiB = 1_048_576
const PAID = 'POST /v1/chat/completions HTTP/1.1\r\nHost: api.example.com\r\nContent-Type: application/octet-stream\r\n'

/** a priced POST that declares `declared` bytes and sends `sent` of them, then stalls */
function stalledPost(declared: number, sent: number): Buffer {
  return Buffer.concat([Buffer.from(`${PAID}Content-Length: ${declared}\r\n\r\n`), Buffer.alloc(sent, 0x61)])
}

/** a chunked priced POST that sends one chunk of `size` bytes and never its last chunk */
function stalledChunked(size: number): Buffer {
  return Buffer.concat([
    Buffer.from(`${PAID}Transfer-Encoding: chunked\r\n\r\n${size.toString(16)}\r\n`),
    Buffer.alloc(size, 0x62),
    Buffer.from('\r\n'),
  ])
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function refusals(stack: Stack, limit: string): Promise<number> {
  const text = await stack.gw.gateway.metrics.render()
  return Number(new RegExp(`^mpp_limit_refusals_total\\{limit="${limit}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0)
}

describe('limits.bodyTimeout and limits.headersTimeout', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ extra: { limits: { bodyTimeout: '300ms', headersTimeout: '300ms' } } })
  })
  afterAll(() => stack.close())

  it('a stalled body to a priced route gets 408 with a gateway problem after bodyTimeout, and the connection closes', async () => {
    const before = stack.upstream.requests.length
    const client = await connectSlow(stack.gw.url)
    client.write(stalledPost(1000, 10))
    const raw = await within(client.closed, 5_000, 'still open after 5 s')
    const response = parseRawResponse(raw)
    expect(response.status).toBe(408)
    expect(response.headers.connection).toBe('close')
    expect(JSON.parse(response.body)).toEqual({
      type: 'urn:mpp-gateway:problem:body-timeout',
      title: 'Request Timeout',
      status: 408,
      detail: 'The request body did not arrive within 0.3 s.',
    })
    expect(client.closedAfterMs()).toBeGreaterThanOrEqual(290)
    expect(stack.upstream.requests.length).toBe(before)
    expect(await refusals(stack, 'bodyTimeout')).toBe(1)
  })

  it('a slowloris header, trickled a line at a time, is cut at headersTimeout with 408', async () => {
    const client = await connectSlow(stack.gw.url)
    client.write('GET /v1/models HTTP/1.1\r\nHost: api.example.com\r\n')
    const trickle = setInterval(() => client.write('X-Slow: 1\r\n'), 100)
    const raw = await within(client.closed, 5_000, 'still open after 5 s')
    clearInterval(trickle)
    expect(raw.startsWith('HTTP/1.1 408 ')).toBe(true)
    expect(client.closedAfterMs()).toBeLessThan(3_000)
  })

  it('a body that arrives in time is still served', async () => {
    const res = await request(`${stack.gw.url}/v1/chat/completions`, { method: 'POST', body: 'x'.repeat(4096) })
    expect(res.status).toBe(402)
  })
})

describe('limits.bufferedBytes', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ extra: { limits: { bodyTimeout: '2s', bufferedBytes: 2 * MiB } } })
  })
  afterAll(() => stack.close())

  it('with two stalled 1 MiB bodies held, a third declared one gets 503 + Retry-After; once they are cut, 1 MiB fits again', async () => {
    const stalled = await Promise.all([connectSlow(stack.gw.url), connectSlow(stack.gw.url)])
    for (const client of stalled) client.write(stalledPost(MiB, MiB - 1))
    await sleep(300)
    const third = await connectSlow(stack.gw.url)
    third.write(stalledPost(MiB, 1))
    const response = parseRawResponse(await within(third.closed, 1_500, 'still open'))
    expect(response.status).toBe(503)
    expect(response.headers['retry-after']).toBe('2')
    expect(response.headers.connection).toBe('close')
    expect(JSON.parse(response.body).type).toBe('urn:mpp-gateway:problem:body-buffer-full')
    // the refusal came while both stalled bodies were still held
    expect(stalled.map((client) => client.closedAfterMs())).toEqual([undefined, undefined])

    const cut = await Promise.all(stalled.map((client) => within(client.closed, 5_000, 'still open')))
    expect(cut.map((raw) => parseRawResponse(raw).status)).toEqual([408, 408])
    const after = await request(`${stack.gw.url}/v1/chat/completions`, {
      method: 'POST',
      body: Buffer.alloc(MiB, 0x63),
    })
    expect(after.status).toBe(402)
    expect(problemOf(after).type).toBe('https://paymentauth.org/problems/payment-required')
    expect(await refusals(stack, 'bufferedBytes')).toBe(1)
  })

  it('chunked bodies are counted as their bytes arrive', async () => {
    const stalled = await Promise.all([connectSlow(stack.gw.url), connectSlow(stack.gw.url)])
    for (const client of stalled) client.write(stalledChunked(MiB))
    await sleep(300)
    const third = await connectSlow(stack.gw.url)
    third.write(
      Buffer.concat([
        Buffer.from(`${PAID}Transfer-Encoding: chunked\r\n\r\n10\r\n`),
        Buffer.alloc(16, 0x64),
        Buffer.from('\r\n'),
      ]),
    )
    const response = parseRawResponse(await within(third.closed, 1_500, 'still open'))
    expect(response.status).toBe(503)
    expect(response.headers['retry-after']).toBe('2')
    expect(stalled.map((client) => client.closedAfterMs())).toEqual([undefined, undefined])
    await Promise.all(stalled.map((client) => within(client.closed, 5_000, 'still open')))
    const after = await request(`${stack.gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'transfer-encoding': 'chunked' },
      body: Buffer.alloc(MiB, 0x65),
    })
    expect(after.status).toBe(402)
  })
})

describe('limits.maxConnections', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ extra: { limits: { maxConnections: 2 } } })
  })
  afterAll(() => stack.close())

  it('closes the connection beyond the cap at once, while the open ones keep working', async () => {
    const first = await connectSlow(stack.gw.url)
    const second = await connectSlow(stack.gw.url)
    const extra = await connectSlow(stack.gw.url)
    expect(await within(extra.closed, 2_000, 'still open')).toBe('')
    first.write('GET /v1/models HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\n\r\n')
    expect(parseRawResponse(await within(first.closed, 5_000, 'still open')).status).toBe(200)
    second.destroy()
    await sleep(200)
    // both slots are free again
    expect((await request(`${stack.gw.url}/v1/models`)).status).toBe(200)
    expect(await refusals(stack, 'maxConnections')).toBe(1)
  })
})

describe('limits on reload', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ extra: { limits: { bodyTimeout: '5s', maxConnections: 50 } } })
  })
  afterAll(() => stack.close())

  it('a new bodyTimeout applies to the next request; listen-level limits are said to need a restart', async () => {
    const document = parseYaml(readFileSync(stack.gw.configFile, 'utf8')) as Record<string, unknown>
    document.limits = { bodyTimeout: '300ms', maxConnections: 60, requestTimeout: '2m' }
    writeFileSync(stack.gw.configFile, stringify(document))
    expect(await stack.gw.gateway.reload()).toMatchObject({ ok: true, changed: true })
    const warnings = stack.gw.logs
      .map((line) => JSON.parse(line) as { level: string; msg: string })
      .filter((line) => line.msg.startsWith('config reload:'))
    expect(warnings.map((line) => line.msg)).toEqual([
      'config reload: limits.maxConnections changes take effect only after a restart',
      'config reload: limits.requestTimeout changes take effect only after a restart',
    ])
    expect(stack.gw.gateway.server.maxConnections).toBe(50)
    const client = await connectSlow(stack.gw.url)
    client.write(stalledPost(1000, 10))
    expect(parseRawResponse(await within(client.closed, 3_000, 'still open')).status).toBe(408)
  })
})
