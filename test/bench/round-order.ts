// The order in which a bench round runs its pairs.

function gcd (a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b)
}

/**
 * Pair indices in the order round `round` runs them. Round 0 keeps the list's order; each later round
 * starts at the next pair and steps through the list by another stride coprime to its length, so
 * every pair follows another pair than in the rounds before (a rotation would keep each pair's
 * predecessor), and no pair opens every round (the first pair after the payload is written, or after
 * the slowest pair of the round before, is the one most often slow). With one or two pairs, odd
 * rounds run the list backwards.
 */
export function roundOrder (count: number, round: number): number[] {
  const list = Array.from({ length: count }, (_, k) => k)
  if (count <= 2) return round % 2 ? list.reverse() : list
  const strides: number[] = []
  for (let s = 1; strides.length <= round; s++) if (gcd(s % count, count) === 1) strides.push(s % count)
  const stride = strides[round]!
  return list.map((j) => (round + j * stride) % count)
}
