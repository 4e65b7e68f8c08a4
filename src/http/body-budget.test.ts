import { describe, expect, it } from 'vitest'
import { createBodyBudget } from './body-budget.js'

describe('body budget', () => {
  it('grants reservations up to the limit exactly and refuses the byte beyond it', () => {
    const budget = createBodyBudget(2_097_152)
    expect(budget.reserve(1_048_576)).toBe(true)
    expect(budget.reserve(1_048_576)).toBe(true)
    expect(budget.used).toBe(2_097_152)
    expect(budget.reserve(1)).toBe(false)
    expect(budget.used).toBe(2_097_152)
  })

  it('a refused reservation takes nothing, so a smaller one still fits', () => {
    const budget = createBodyBudget(100)
    expect(budget.reserve(60)).toBe(true)
    expect(budget.reserve(41)).toBe(false)
    expect(budget.reserve(40)).toBe(true)
    expect(budget.used).toBe(100)
  })

  it('released bytes can be reserved again, and releasing never goes below zero', () => {
    const budget = createBodyBudget(100)
    budget.reserve(100)
    budget.release(30)
    expect(budget.used).toBe(70)
    expect(budget.reserve(30)).toBe(true)
    budget.release(100)
    budget.release(100)
    expect(budget.used).toBe(0)
    expect(budget.reserve(101)).toBe(false)
    expect(budget.reserve(100)).toBe(true)
  })

  it('zero or negative amounts reserve and release nothing', () => {
    const budget = createBodyBudget(10)
    expect(budget.reserve(0)).toBe(true)
    budget.reserve(5)
    budget.release(-5)
    expect(budget.used).toBe(5)
  })
})
