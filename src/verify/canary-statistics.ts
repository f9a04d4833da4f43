/**
 * The statistics of the canary analysis, pure: Mann–Whitney U (as Kayenta's
 * NetflixACAJudge compares per-period data) and a two-proportion test on
 * totals (error rates at low traffic). Both are one-sided: they ask only
 * whether the canary is worse in the direction that matters.
 */

/** Above this many orderings the exact U distribution is replaced by the normal approximation. */
const EXACT_MAX_PAIRS = 400;

/** One-sided p-value of "the canary's values are larger than the baseline's", with U and how it was computed. */
export interface RankTest {
  /** Pairs (canary, baseline) where the canary is larger, ties counting half. */
  u: number;
  /** P(U ≥ u) when both come from one distribution. */
  pValue: number;
  method: 'exact' | 'normal';
}

/**
 * Mann–Whitney U, one-sided (canary larger). Exact distribution when the
 * samples are small (n·m ≤ 400) and have no ties — the normal approximation
 * is poor just where canaries live, at few periods; otherwise the normal
 * approximation with tie correction and continuity correction.
 */
export function mannWhitneyGreater(canary: readonly number[], baseline: readonly number[]): RankTest {
  const n = canary.length;
  const m = baseline.length;
  if (n === 0 || m === 0) return { u: 0, pValue: 1, method: 'exact' };
  const all = [...canary.map((v) => ({ v, c: true })), ...baseline.map((v) => ({ v, c: false }))].sort(
    (a, b) => a.v - b.v,
  );
  let rankSum = 0;
  let tieTerm = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j += 1;
    const rank = (i + j) / 2 + 1;
    const size = j - i + 1;
    tieTerm += size ** 3 - size;
    for (let k = i; k <= j; k += 1) if (all[k]!.c) rankSum += rank;
    i = j + 1;
  }
  const u = rankSum - (n * (n + 1)) / 2;
  if (tieTerm === 0 && n * m <= EXACT_MAX_PAIRS) return { u, pValue: exactUpperTail(n, m, u), method: 'exact' };
  const total = n + m;
  const mean = (n * m) / 2;
  const variance = ((n * m) / 12) * (total + 1 - tieTerm / (total * (total - 1)));
  if (variance <= 0) return { u, pValue: 1, method: 'normal' };
  const z = (u - mean - 0.5) / Math.sqrt(variance);
  return { u, pValue: upperNormalTail(z), method: 'normal' };
}

/** P(U ≥ u) for samples of n and m without ties: counts of orderings by U (f(n,m,u) = f(n−1,m,u−m) + f(n,m−1,u)). */
function exactUpperTail(n: number, m: number, u: number): number {
  // counts[j][k]: orderings of i canary and j baseline values with U = k, built up over i.
  let previous: number[][] = Array.from({ length: m + 1 }, () => [1]);
  for (let i = 1; i <= n; i += 1) {
    const current: number[][] = [];
    for (let j = 0; j <= m; j += 1) {
      const row = new Array<number>(i * j + 1).fill(0);
      // The largest value is a canary one (it beats all j baseline ones) or a baseline one.
      const withCanary = previous[j]!;
      for (let k = 0; k < withCanary.length; k += 1) row[k + j] = (row[k + j] ?? 0) + withCanary[k]!;
      if (j > 0) {
        const withBaseline = current[j - 1]!;
        for (let k = 0; k < withBaseline.length; k += 1) row[k] = (row[k] ?? 0) + withBaseline[k]!;
      }
      current.push(row);
    }
    previous = current;
  }
  const counts = previous[m]!;
  const all = counts.reduce((a, b) => a + b, 0);
  let tail = 0;
  for (let k = Math.ceil(u - 1e-9); k < counts.length; k += 1) tail += counts[k]!;
  return tail / all;
}

/**
 * One-sided two-proportion z-test (canary share larger), on totals: every
 * request counts, so it holds at low traffic where per-period rates are few
 * and mostly zero. p = 1 without requests on either side.
 */
export function proportionGreater(
  canary: { events: number; total: number },
  baseline: { events: number; total: number },
): number {
  if (canary.total <= 0 || baseline.total <= 0) return 1;
  const pooled = (canary.events + baseline.events) / (canary.total + baseline.total);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / canary.total + 1 / baseline.total));
  const diff = canary.events / canary.total - baseline.events / baseline.total;
  if (se === 0) return diff > 0 ? 0 : 1;
  return upperNormalTail(diff / se);
}

/** P(Z ≥ z) for a standard normal (Abramowitz–Stegun 7.1.26 erf, error < 1.5e-7). */
export function upperNormalTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 - erf) / 2 : (1 + erf) / 2;
}
