import { describe, expect, it } from 'vitest'
import { parse, rank } from './accept-payment.js'

type Offer = { method: string; intent: string; id: string }

function offers(...keys: string[]): Offer[] {
  return keys.map((key, index) => {
    const [method, intent] = key.split('/') as [string, string]
    return { method, intent, id: `${key}#${index}` }
  })
}

function keys(ranked: Offer[]): string[] {
  return ranked.map((offer) => `${offer.method}/${offer.intent}`)
}

describe('parse', () => {
  it('reads the spec examples', () => {
    expect(parse('tempo/charge, tempo/session, stripe/charge;q=0.5, solana/charge;q=0.3')).toEqual([
      { method: 'tempo', intent: 'charge', q: 1 },
      { method: 'tempo', intent: 'session', q: 1 },
      { method: 'stripe', intent: 'charge', q: 0.5 },
      { method: 'solana', intent: 'charge', q: 0.3 },
    ])
    expect(parse('tempo/*, solana/*;q=0.6, */session;q=0.3')).toEqual([
      { method: 'tempo', intent: '*', q: 1 },
      { method: 'solana', intent: '*', q: 0.6 },
      { method: '*', intent: 'session', q: 0.3 },
    ])
    expect(parse('tempo/charge, tempo/session;q=0, solana/charge')?.[1]).toEqual({
      method: 'tempo',
      intent: 'session',
      q: 0,
    })
  })

  it('tolerates OWS, empty list elements, Q in upper case and unknown parameters', () => {
    expect(parse('  tempo/charge ;  q=0.5 ,, */* ; ext=1 ')).toEqual([
      { method: 'tempo', intent: 'charge', q: 0.5 },
      { method: '*', intent: '*', q: 1 },
    ])
    expect(parse('tempo/charge;Q=0.250')).toEqual([{ method: 'tempo', intent: 'charge', q: 0.25 }])
    expect(parse('tempo/charge;q=1.000, a/b;q=0., c/d;q=0')).toEqual([
      { method: 'tempo', intent: 'charge', q: 1 },
      { method: 'a', intent: 'b', q: 0 },
      { method: 'c', intent: 'd', q: 0 },
    ])
  })

  it('returns undefined for malformed values', () => {
    for (const header of [
      '',
      ' , ',
      'tempo',
      'tempo/',
      '/charge',
      'Tempo/charge',
      'tempo/charge/x',
      'tempo/charge;q=1.5',
      'tempo/charge;q=0.1234',
      'tempo/charge;q=-0',
      'tempo/charge;q=',
      'tempo/charge;q',
      'tempo/charge;q=0.5;q=0.6',
      'tempo/ch arge',
      'tempo charge',
    ]) {
      expect(parse(header), header).toBeUndefined()
    }
  })
})

describe('rank', () => {
  const all = offers('solana/charge', 'stripe/charge', 'tempo/session', 'tempo/charge')

  it('orders by descending q, spec example 1', () => {
    expect(keys(rank(all, 'tempo/charge, tempo/session, stripe/charge;q=0.5, solana/charge;q=0.3'))).toEqual([
      'tempo/session',
      'tempo/charge',
      'stripe/charge',
      'solana/charge',
    ])
  })

  it('keeps server order among equal q', () => {
    expect(keys(rank(offers('solana/charge', 'tempo/charge'), 'tempo/charge, solana/charge'))).toEqual([
      'solana/charge',
      'tempo/charge',
    ])
  })

  it('handles wildcards, spec example 3', () => {
    expect(keys(rank(all, 'tempo/*, solana/*;q=0.6, stripe/charge;q=0.2'))).toEqual([
      'tempo/session',
      'tempo/charge',
      'solana/charge',
      'stripe/charge',
    ])
  })

  it('drops q=0 offers, spec example 4', () => {
    expect(
      keys(
        rank(
          offers('tempo/charge', 'tempo/session', 'solana/charge', 'stripe/charge'),
          'tempo/charge, tempo/session;q=0, solana/charge;q=0.8, stripe/charge;q=0.4',
        ),
      ),
    ).toEqual(['tempo/charge', 'solana/charge', 'stripe/charge'])
  })

  it('uses the most specific matching range, whatever its q', () => {
    expect(keys(rank(all, 'tempo/*;q=0.9, tempo/session;q=0, */*;q=0.1'))).toEqual([
      'tempo/charge',
      'solana/charge',
      'stripe/charge',
    ])
    expect(keys(rank(all, '*/*, stripe/charge;q=0.2'))).toEqual([
      'solana/charge',
      'tempo/session',
      'tempo/charge',
      'stripe/charge',
    ])
    expect(keys(rank(all, 'tempo/*;q=0, tempo/charge;q=0.5'))).toEqual(['tempo/charge'])
  })

  it('takes the higher q between equally specific ranges (method/* against */intent), as mppx does', () => {
    expect(keys(rank(all, 'tempo/*;q=0, */charge;q=0.5'))).toEqual(['solana/charge', 'stripe/charge', 'tempo/charge'])
    expect(keys(rank(all, 'tempo/charge;q=0.2, tempo/charge;q=0.7, stripe/charge;q=0.5'))).toEqual([
      'tempo/charge',
      'stripe/charge',
    ])
  })

  it('drops offers no range matches', () => {
    expect(keys(rank(all, 'stripe/*'))).toEqual(['stripe/charge'])
  })

  it('returns the offers unchanged when the header is absent, malformed, or leaves nothing', () => {
    expect(rank(all, undefined)).toEqual(all)
    expect(rank(all, 'garbage')).toEqual(all)
    expect(rank(all, 'lightning/charge')).toEqual(all)
    expect(rank(all, 'tempo/*;q=0, */*;q=0')).toEqual(all)
    expect(rank(all, undefined)).not.toBe(all)
  })

  it('returns the same offer objects', () => {
    const ranked = rank(all, 'tempo/charge')
    expect(ranked[0]).toBe(all[3])
  })
})
